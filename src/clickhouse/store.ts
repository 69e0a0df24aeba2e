import type { ClickHouseClient } from '@clickhouse/client';
import { insertJsonLines } from './insert.js';

/**
 * What the write path needs from ClickHouse, and nothing more: insert a block of JSON lines
 * under a deduplication token, and read a few rows back. The loaders depend on this, not on
 * the library's client, so the wrappers that change how writes behave (write tracking for
 * the result cache, test-only fault injection) wrap one small interface of our own.
 */
export interface Store {
  /** One INSERT of JSONEachRow lines, idempotent under `token` (see insert.ts). */
  insert(table: string, lines: readonly string[], token: string): Promise<void>;
  /** A read whose answer is small: rows as objects (JSONEachRow). */
  query<T>(sql: string): Promise<T[]>;
}

/** The Store over a @clickhouse/client client (chDB connection or HTTP server alike). */
export function clientStore(client: ClickHouseClient): Store {
  return {
    insert: (table, lines, token) => insertJsonLines(client, table, lines, token),
    async query<T>(sql: string) {
      const rs = await client.query({ query: sql, format: 'JSONEachRow' });
      return rs.json<T>();
    },
  };
}
