import type { Readable } from 'node:stream';

/**
 * What the service asks of ClickHouse besides the loaders' inserts (store.ts has those):
 * the storage seam's read side. server-adapter.ts and chdb-adapter.ts build it, both over
 * library-client.ts; wrappers that change how queries behave (chdb-drain.ts,
 * session-pool.ts) wrap this interface, not the library's client. Parameter names follow
 * @clickhouse/client's, so a call site reads the same as it would against the library.
 */

/** Values of a query's {name:Type} placeholders: bound by ClickHouse, never spliced into the text. */
export type QueryParams = Record<string, unknown>;

/** A read whose answer is rows as objects. */
export interface RowsQuery {
  query: string;
  query_params?: QueryParams;
  format: 'JSONEachRow';
}

export interface Rows {
  json<T>(): Promise<T[]>;
}

/** A statement whose answer is bytes, in the format its text (or default_format) names. */
export interface ExecQuery {
  query: string;
  query_params?: QueryParams;
  /**
   * Server: URL parameters of this request. chDB: `SET` statements that stay on the session
   * (DESIGN.md), except default_format; so readers put settings in a SETTINGS clause.
   */
  clickhouse_settings?: Record<string, string | number>;
}

export interface ExecAnswer {
  stream: Readable;
  /** X-ClickHouse-Summary's counters, where the transport reports them. */
  summary?: object;
}

/** Pipes, user SQL, datasource reads, exports: reads only. */
export interface Reader {
  query(params: RowsQuery): Promise<Rows>;
  exec(params: ExecQuery): Promise<ExecAnswer>;
}

/** Migrations, the project's DDL, retention, copy pipes, backup: a reader that also writes. */
export interface Admin extends Reader {
  /** `values`: an INSERT's data block, sent as it is. */
  exec(params: ExecQuery & { values?: Readable }): Promise<ExecAnswer>;
  /** A statement whose answer, if any, is not needed (DDL, SET, INSERT … VALUES). */
  command(params: { query: string }): Promise<void>;
}

/** A connection of its own, closed by whoever opened it. */
export interface Session extends Admin {
  close(): Promise<void>;
}
