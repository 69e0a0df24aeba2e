import type { ClickHouseClient } from '@clickhouse/client';
import type { Session } from './reader.js';

/**
 * The reader interface over a @clickhouse/client client: a ClickHouse server over HTTP, or
 * chDB through its connection adapter (chdb-adapter.ts). The only place outside the
 * factories where the library's client is called.
 */
export function libraryClient(client: ClickHouseClient): Session {
  return {
    async query(params) {
      const result = await client.query(params);
      return { json: <T>() => result.json<T>() };
    },
    exec: (params) => client.exec(params),
    async command(params) {
      await client.command(params);
    },
    close: () => client.close(),
  };
}
