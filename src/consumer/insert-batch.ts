import type { ClickHouseClient } from '@clickhouse/client';
import { insertErrorReason, isRetryableInsertError } from '../clickhouse/errors.js';
import { insertJsonLines } from '../clickhouse/insert.js';
import { wellFormedJson } from '../ingest/rows.js';
import type { IngestRows } from '../queue/types.js';

export const EVENTS_TABLE = 'feature_events';
export const QUARANTINE_TABLE = 'feature_events_quarantine';

/**
 * One batch, two inserts (quarantine first, then events), each with a token derived from
 * the batch's deterministic identity (spool offsets or Kafka topic/partition/offsets), so
 * replaying the same batch after a crash stores nothing twice.
 */
export async function insertBatch(
  client: ClickHouseClient,
  rows: IngestRows,
  batchId: string,
): Promise<void> {
  await insertJsonLines(client, QUARANTINE_TABLE, rows.quarantine, `${batchId}:q`);
  await insertJsonLines(client, EVENTS_TABLE, rows.events, `${batchId}:e`);
}

export interface InsertReport {
  /** Lines ClickHouse rejected for a data reason, moved to the quarantine table. */
  poisoned: number;
  /** Quarantine lines that ClickHouse could not store even re-wrapped (logged, then skipped). */
  dropped: number;
  /** The event lines among `poisoned` (not stored in feature_events). */
  rejectedEvents: string[];
}

/**
 * insertBatch that a poison row cannot block. A transient error (see clickhouse/errors.ts)
 * is thrown for the caller to retry the whole call. A data error (the rows themselves are
 * unparsable) splits the lines in halves, recursively, until the rejected lines are alone;
 * those go to feature_events_quarantine with ClickHouse's error as the reason and the rest
 * are inserted.
 *
 * Deterministic: the same lines fail the same way, so a retry (or a replay after a crash)
 * cuts the same halves. Each half's token is its parent's plus "/0" or "/1", and the poison
 * lines go in with the parent's token plus ":poison", so whatever part of a split had landed
 * before a crash is dropped by ClickHouse on the replay.
 */
export async function insertBatchIsolating(
  client: ClickHouseClient,
  rows: IngestRows,
  batchId: string,
  // The datasource's tables: feature_events unless a project datasource is written.
  tables: { events: string; quarantine: string } = { events: EVENTS_TABLE, quarantine: QUARANTINE_TABLE },
): Promise<InsertReport> {
  const { events: eventsTable, quarantine: quarantineTable } = tables;
  const report: InsertReport = { poisoned: 0, dropped: 0, rejectedEvents: [] };
  // Quarantine lines first: a rejected one is wrapped as a plain {raw, c__error} row.
  const badQ = await insertOrSplit(client, quarantineTable, rows.quarantine, `${batchId}:q`);
  if (badQ.length > 0) {
    const wrapped = badQ.map(({ line, err }) => poisonRow(line, err));
    const again = await insertOrSplit(client, quarantineTable, wrapped, `${batchId}:q:poison`);
    report.poisoned += badQ.length - again.length;
    report.dropped += again.length;
  }
  const badE = await insertOrSplit(client, eventsTable, rows.events, `${batchId}:e`);
  if (badE.length > 0) {
    report.rejectedEvents = badE.map((b) => b.line);
    const wrapped = badE.map(({ line, err }) => poisonRow(line, err));
    const again = await insertOrSplit(client, quarantineTable, wrapped, `${batchId}:e:poison`);
    report.poisoned += badE.length - again.length;
    report.dropped += again.length;
  }
  return report;
}

interface Rejected {
  line: string;
  err: unknown;
}

async function insertOrSplit(
  client: ClickHouseClient,
  table: string,
  lines: readonly string[],
  token: string,
): Promise<Rejected[]> {
  try {
    await insertJsonLines(client, table, lines, token);
    return [];
  } catch (err) {
    if (isRetryableInsertError(err)) throw err;
    if (lines.length === 1) return [{ line: lines[0]!, err }];
    const mid = lines.length >>> 1;
    const left = await insertOrSplit(client, table, lines.slice(0, mid), `${token}/0`);
    const right = await insertOrSplit(client, table, lines.slice(mid), `${token}/1`);
    return left.concat(right);
  }
}

const MAX_RAW = 64 * 1024;

function poisonRow(line: string, err: unknown): string {
  let fields: Record<string, unknown> = {};
  try {
    const v = JSON.parse(line) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) fields = v as Record<string, unknown>;
  } catch {
    // unparsable: only raw is kept
  }
  const row: Record<string, unknown> = {
    raw: line.length > MAX_RAW ? `${line.slice(0, MAX_RAW)}…(truncated)` : line,
    c__error_column: [],
    c__error: [insertErrorReason(err)],
  };
  for (const col of ['event_id', 'user_id', 'feature_id', 'product_version', 'event_type', 'timestamp']) {
    const v = fields[col];
    if (typeof v === 'string') row[col] = v.slice(0, 1024);
  }
  return wellFormedJson(JSON.stringify(row));
}
