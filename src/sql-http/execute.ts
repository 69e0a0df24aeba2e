import { Readable } from 'node:stream';
import { readBytes } from '../clickhouse/read-text.js';
import type { Reader } from '../clickhouse/reader.js';
import type { UserStatement } from '../sql/guard.js';
import { ClickHouseException } from './exception.js';
import { bindParams } from './params.js';
import type { SqlRequest } from './request.js';
import type { WritableSessions } from './writable-sessions.js';

export interface Answer {
  body: Buffer;
  /** The format the body is in (X-ClickHouse-Format). */
  format: string;
  /** X-ClickHouse-Summary's counters, as ClickHouse writes them (strings). */
  summary?: Record<string, string>;
}

export type Executor = (req: SqlRequest) => Promise<Answer>;

type Guard = (reader: Reader, text: string, params?: Record<string, string>) => Promise<UserStatement>;

const FORMAT_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

function formatOf(requested: string | undefined): string {
  const format = requested?.trim() || 'TabSeparated';
  if (!FORMAT_NAME.test(format))
    throw new ClickHouseException(73, 'UNKNOWN_FORMAT', `Unknown format ${format}`);
  return format;
}

function checkDatabase(database: string | undefined): void {
  if (database && database !== 'default')
    throw new ClickHouseException(
      81,
      'UNKNOWN_DATABASE',
      `Database ${database} does not exist: the embedded store has only "default"`,
    );
}

/**
 * Read-only: the /v0/sql guard lets exactly one read statement through, and only that
 * formatted statement runs, on the read-only session whose limits a query cannot lift.
 * Settings cannot be changed either (readonly=1), as for a ClickHouse user with readonly=1.
 */
export function readOnlyExecutor(reader: () => Reader | undefined, guard: Guard): Executor {
  return async (req) => {
    checkDatabase(req.database);
    const [setting] = Object.keys(req.settings);
    if (setting !== undefined)
      throw new ClickHouseException(164, 'READONLY', `Cannot modify '${setting}' setting in readonly mode`);
    const session = reader();
    if (!session)
      throw new ClickHouseException(210, 'NETWORK_ERROR', 'The store is not ready yet, retry shortly');
    // ClickHouse reads `query` then the body as one text; data after an INSERT is refused with it.
    const text = req.data ? `${req.query}\n${req.data.toString('utf8')}` : req.query;
    const raw = Object.fromEntries(req.params);
    const { statement, format } = await guard(session, text, bindParams(req.params, text));
    const answerFormat = formatOf(format ?? req.defaultFormat);
    const result = await session.exec({
      query: `${statement}\nFORMAT ${answerFormat}`,
      query_params: Object.keys(raw).length > 0 ? bindParams(req.params, statement) : undefined,
    });
    return { body: await readBytes(result.stream), format: answerFormat, summary: summaryOf(result) };
  };
}

/**
 * TEST ONLY: runs whatever it is sent, settings and INSERT data included, so that processes
 * started with CLICKHOUSE_URL (ROLE=api, ROLE=consumer) can use the embedded store as if it
 * were a ClickHouse server. Sessions come clean from WritableSessions: chDB keeps a query's
 * settings for the rest of its session (an insert_deduplication_token would leak).
 */
export function writableExecutor(sessions: WritableSessions): Executor {
  return async (req) => {
    checkDatabase(req.database);
    const format = formatOf(req.defaultFormat);
    return sessions.with(req.settings, async (session, settings) => {
      const params = {
        query: req.query,
        query_params: req.params.size > 0 ? bindParams(req.params, req.query) : undefined,
        clickhouse_settings: { ...settings, default_format: format },
      };
      const result = await session.exec(req.data ? { ...params, values: Readable.from([req.data]) } : params);
      return { body: await readBytes(result.stream), format, summary: summaryOf(result) };
    });
  };
}

function summaryOf(result: { summary?: object }): Record<string, string> | undefined {
  if (!result.summary) return undefined;
  return Object.fromEntries(Object.entries(result.summary).map(([k, v]) => [k, String(v)]));
}
