import type { ChdbConnection } from 'chdb/connection';
import { drain } from './chdb-drain.js';
import { insertBody, insertJsonLines, insertStatement } from './insert.js';
import type { Admin, Reader } from './reader.js';

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

/** The Store over a session: a ClickHouse server over HTTP (or chDB, in tests). */
export function clientStore(client: Admin): Store {
  return {
    insert: (table, lines, token) => insertJsonLines(client, table, lines, token),
    query: (sql) => queryRows(client, sql),
  };
}

/**
 * The Store over chDB in this process. Inserts go to the chDB session as one SQL text,
 * statement and data block together: @clickhouse/client would turn the lines into a
 * Buffer, and chDB's connection adapter would decode that back into a string, for every
 * batch. `client` is a reader on the same connection, for reads and for taking a failed
 * query's leftover output (chdb-drain.ts).
 */
export function chdbStore(connection: ChdbConnection, client: Reader): Store {
  return {
    async insert(table, lines, token) {
      if (lines.length === 0) return;
      try {
        await connection.chdb.queryAsync(`${insertStatement(table, token)}\n${insertBody(lines)}`);
      } catch (err) {
        await drain(client);
        throw err;
      }
    },
    query: (sql) => queryRows(client, sql),
  };
}

async function queryRows<T>(client: Reader, sql: string): Promise<T[]> {
  const rs = await client.query({ query: sql, format: 'JSONEachRow' });
  return rs.json<T>();
}
