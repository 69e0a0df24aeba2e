import type { Reader } from '../clickhouse/reader.js';
import { QUARANTINE_TABLE } from '../clickhouse/tables.js';
import { assertLedger, REPLAYS_TABLE, ROW_KEY, UNREPLAYED } from './ledger.js';

export interface QuarantinedRow {
  row_key: string;
  insertion_date: string;
  c__error_column: string[];
  c__error: string[];
  raw: string;
  /** With `all`: '' for a row still in quarantine, else what replay did with it. */
  replayed?: string;
}

/**
 * `quarantine list`: the newest quarantined rows first, without the ones a replay took out
 * (with `all`, every row and what replay did with it). Also the total, for the header.
 */
export async function listQuarantine(
  client: Reader,
  opts: { limit: number; all: boolean },
): Promise<{ total: number; rows: QuarantinedRow[] }> {
  await assertLedger(client);
  const where = opts.all ? '' : `WHERE ${UNREPLAYED}`;
  const total = await client.query({
    query: `SELECT count() AS n FROM ${QUARANTINE_TABLE} ${where}`,
    format: 'JSONEachRow',
  });
  // With `all`, what replay did with each row: '' for a row still in quarantine.
  const replayed = opts.all
    ? `LEFT JOIN (SELECT row_key, toString(any(outcome)) AS replayed FROM ${REPLAYS_TABLE} WHERE state = 'claimed' GROUP BY row_key) AS r ON r.row_key = q.key`
    : '';
  const rs = await client.query({
    query: `SELECT toString(key) AS row_key, insertion_date, c__error_column, c__error, raw${opts.all ? ', replayed' : ''}
            FROM (SELECT ${ROW_KEY} AS key, * FROM ${QUARANTINE_TABLE} ${where}) AS q ${replayed}
            ORDER BY insertion_date DESC, row_key LIMIT {limit:UInt32}
            SETTINGS join_use_nulls = 0`,
    query_params: { limit: opts.limit },
    format: 'JSONEachRow',
  });
  const [n] = await total.json<{ n: string }>();
  return { total: Number(n?.n ?? 0), rows: await rs.json<QuarantinedRow>() };
}
