import { createClient } from '@clickhouse/client';
import type { Config } from '../config/index.js';
import { libraryClient } from './library-client.js';
import { serverReaderSettings } from './read-only.js';
import type { Session } from './reader.js';
import type { StorageClient } from './storage.js';
import { clientStore } from './store.js';

export type ServerConfig = Pick<Config, 'CLICKHOUSE_USER' | 'CLICKHOUSE_PASSWORD' | 'CLICKHOUSE_DATABASE'> & {
  CLICKHOUSE_URL: string;
};

/** A ClickHouse server over HTTP through @clickhouse/client. */
export function serverStorage(config: ServerConfig): StorageClient {
  const connect = (settings?: Record<string, string>) =>
    libraryClient(
      createClient({
        url: config.CLICKHOUSE_URL,
        username: config.CLICKHOUSE_USER,
        password: config.CLICKHOUSE_PASSWORD,
        database: config.CLICKHOUSE_DATABASE,
        request_timeout: 60_000,
        compression: { request: false, response: true },
        clickhouse_settings: settings,
      }),
    );
  const client = connect();
  const readers: Session[] = [];
  return {
    admin: client,
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
