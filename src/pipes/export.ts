import { Readable } from 'node:stream';
import type { Reader } from '../clickhouse/reader.js';
import { FORMATS } from './formats.js';

/** Default for EXPORT_MAX_ROWS: seed 002's limit on CSV exports. */
export const DEFAULT_EXPORT_MAX_ROWS = 50_000;

export interface ExportQuery {
  /** The rendered pipe, without SETTINGS or FORMAT. */
  sql: string;
  params: Record<string, unknown>;
  maxRows: number;
  /** Query-level settings, e.g. "max_execution_time = 10". */
  settings: string;
}

/**
 * A pipe's CSV as an export: at most maxRows rows, streamed from ClickHouse to the client
 * as they come instead of buffered (and never cached). The headers go out before the first
 * row, so whether the answer was capped is decided first, by a count that stops at
 * maxRows + 1: an export pays for its question about twice, a page never does.
 */
export async function streamExport(client: Reader, q: ExportQuery): Promise<Response> {
  const counted = await client.query({
    query: `SELECT count() AS n FROM (SELECT 1 FROM (${q.sql}) LIMIT ${q.maxRows + 1})\nSETTINGS ${q.settings}`,
    query_params: q.params,
    format: 'JSONEachRow',
  });
  const [{ n } = { n: '0' }] = await counted.json<{ n: string }>();
  const capped = Number(n) > q.maxRows;
  const result = await client.exec({
    query: `SELECT * FROM (${q.sql}) LIMIT ${q.maxRows}\nSETTINGS ${q.settings}\nFORMAT ${FORMATS.csv.clickhouse}`,
    query_params: q.params,
  });
  return new Response(Readable.toWeb(result.stream as Readable) as ReadableStream, {
    status: 200,
    headers: {
      'Content-Type': FORMATS.csv.contentType,
      'X-Cache': 'BYPASS',
      'X-Export-Max-Rows': String(q.maxRows),
      'X-Export-Capped': capped ? 'true' : 'false',
    },
  });
}
