import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import type { Config } from '../config/index.js';
import { drainAfterTimeout } from './chdb-timeout.js';

export type { ClickHouseClient } from '@clickhouse/client';

export interface StorageClient {
  client: ClickHouseClient;
  /** 'server' over HTTP, or 'embedded' chDB in this process. For logs only. */
  kind: 'server' | 'embedded';
  /** Where the data lives: the server URL or the chDB data directory. */
  location: string;
  /**
   * Another session on the same storage. chDB keeps per-query settings for the rest of
   * its session (a readonly=2 or an insert_deduplication_token set on one query sticks),
   * so readers with their own settings get their own session; over HTTP each query
   * carries its settings anyway and this returns the same client.
   */
  session(): ClickHouseClient;
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
    return {
      client,
      kind: 'server',
      location: config.CLICKHOUSE_URL,
      session: () => client,
      close: () => client.close(),
    };
  }
  // Loaded lazily so server mode never loads the 500 MB native library.
  const { createChdbConnection } = await import('chdb/connection');
  const path = resolve(config.DATA_DIR, 'clickhouse');
  mkdirSync(path, { recursive: true });
  const open = () =>
    drainAfterTimeout(
      createClient({ connection: createChdbConnection({ path }) } as Parameters<typeof createClient>[0]),
    );
  const client = open();
  const sessions: ClickHouseClient[] = [];
  return {
    client,
    kind: 'embedded',
    location: path,
    session: () => {
      const s = open();
      sessions.push(s);
      return s;
    },
    close: async () => {
      for (const s of sessions) await s.close();
      await client.close();
      const chdb = (await import('chdb')) as unknown as { drainPending?: () => Promise<void> };
      await chdb.drainPending?.();
    },
  };
}
