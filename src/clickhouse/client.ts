import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import type { Config } from '../config/index.js';
import { drainAfterError } from './chdb-drain.js';
import { lockChdbSession, type ReadOnlyProfile, serverReaderSettings } from './read-only.js';
import { chdbStore, clientStore, type Store } from './store.js';

export type { ClickHouseClient } from '@clickhouse/client';

export interface StorageClient {
  client: ClickHouseClient;
  /** The write path's narrow view of the same connection (see store.ts). */
  store: Store;
  /** 'server' over HTTP, or 'embedded' chDB in this process. For logs only. */
  kind: 'server' | 'embedded';
  /** Where the data lives: the server URL or the chDB data directory. */
  location: string;
  /**
   * A reader that cannot write, from its first query on: every reader of this service
   * (pipes, user SQL) gets one. chDB: its own session (chDB keeps SET values per session),
   * locked before it is returned. Server: a client whose every request carries the
   * settings, which the server applies before it parses the query.
   */
  readOnlySession(profile: ReadOnlyProfile): Promise<ClickHouseClient>;
  /** Embedded only: a new read-write chDB session, closed by the caller (the test-only writable SQL listener). */
  openSession?(): ClickHouseClient;
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
    const connect = (settings?: Record<string, string>) =>
      createClient({
        url: config.CLICKHOUSE_URL,
        username: config.CLICKHOUSE_USER,
        password: config.CLICKHOUSE_PASSWORD,
        database: config.CLICKHOUSE_DATABASE,
        request_timeout: 60_000,
        compression: { request: false, response: true },
        clickhouse_settings: settings,
      });
    const client = connect();
    const readers: ClickHouseClient[] = [];
    return {
      client,
      store: clientStore(client),
      kind: 'server',
      location: config.CLICKHOUSE_URL,
      readOnlySession: async (profile) => {
        const reader = connect(serverReaderSettings(profile));
        readers.push(reader);
        return reader;
      },
      close: async () => {
        for (const r of readers) await r.close();
        await client.close();
      },
    };
  }
  // Loaded lazily so server mode never loads the 500 MB native library.
  const { createChdbConnection } = await import('chdb/connection');
  const path = resolve(config.DATA_DIR, 'clickhouse');
  mkdirSync(path, { recursive: true });
  const connect = () => {
    const connection = createChdbConnection({ path });
    const client = drainAfterError(createClient({ connection } as Parameters<typeof createClient>[0]));
    return { connection, client };
  };
  const open = () => connect().client;
  const { connection, client } = connect();
  const sessions: ClickHouseClient[] = [];
  return {
    client,
    store: chdbStore(connection, client),
    kind: 'embedded',
    location: path,
    readOnlySession: async (profile) => {
      const s = open();
      sessions.push(s);
      await lockChdbSession(s, profile);
      return s;
    },
    openSession: open,
    close: async () => {
      for (const s of sessions) await s.close();
      await client.close();
      const chdb = (await import('chdb')) as unknown as { drainPending?: () => Promise<void> };
      await chdb.drainPending?.();
    },
  };
}
