import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import type { Config } from '../config/index.js';

export type { ClickHouseClient } from '@clickhouse/client';

export interface StorageClient {
  client: ClickHouseClient;
  /** 'server' over HTTP, or 'embedded' chDB in this process. For logs only. */
  kind: 'server' | 'embedded';
  /** Where the data lives: the server URL or the chDB data directory. */
  location: string;
  close(): Promise<void>;
}

/**
 * The storage seam: a @clickhouse/client client for a ClickHouse server when
 * CLICKHOUSE_URL is set, otherwise embedded chDB on disk under DATA_DIR/clickhouse.
 * Nothing above this function knows which one it got.
 */
export async function createStorageClient(
  config: Pick<
    Config,
    'CLICKHOUSE_URL' | 'CLICKHOUSE_USER' | 'CLICKHOUSE_PASSWORD' | 'CLICKHOUSE_DATABASE' | 'DATA_DIR'
  >,
): Promise<StorageClient> {
  if (config.CLICKHOUSE_URL) {
    const client = createClient({
      url: config.CLICKHOUSE_URL,
      username: config.CLICKHOUSE_USER,
      password: config.CLICKHOUSE_PASSWORD,
      database: config.CLICKHOUSE_DATABASE,
      request_timeout: 60_000,
      compression: { request: false, response: true },
    });
    return { client, kind: 'server', location: config.CLICKHOUSE_URL, close: () => client.close() };
  }
  // Loaded lazily so server mode never loads the 500 MB native library.
  const { createChdbConnection } = await import('chdb/connection');
  const path = resolve(config.DATA_DIR, 'clickhouse');
  mkdirSync(path, { recursive: true });
  const client = createClient({ connection: createChdbConnection({ path }) } as Parameters<
    typeof createClient
  >[0]);
  if (config.CLICKHOUSE_DATABASE !== 'default') {
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.CLICKHOUSE_DATABASE}` });
    await client.command({ query: `USE ${config.CLICKHOUSE_DATABASE}` });
  }
  return {
    client,
    kind: 'embedded',
    location: path,
    close: async () => {
      await client.close();
      const chdb = (await import('chdb')) as unknown as { drainPending?: () => Promise<void> };
      await chdb.drainPending?.();
    },
  };
}
