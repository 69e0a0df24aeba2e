import { insertErrorReason, isRetryableInsertError } from '../clickhouse/errors.js';
import type { Store } from '../clickhouse/store.js';
import { EVENTS_TABLE, QUARANTINE_TABLE } from '../clickhouse/tables.js';
import { rejectedLine } from '../ingest/quarantine-row.js';
import type { IngestRows } from '../queue/types.js';

/**
 * One batch, two inserts (quarantine first, then events), each with a token derived from
 * the batch's deterministic identity (spool offsets or Kafka topic/partition/offsets), so
 * replaying the same batch after a crash stores nothing twice.
 */
export async function insertBatch(store: Store, rows: IngestRows, batchId: string): Promise<void> {
  await store.insert(QUARANTINE_TABLE, rows.quarantine, `${batchId}:q`);
  await store.insert(EVENTS_TABLE, rows.events, `${batchId}:e`);
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
  store: Store,
  rows: IngestRows,
  batchId: string,
  // The datasource's tables: feature_events unless a project datasource is written.
  tables: { events: string; quarantine: string } = { events: EVENTS_TABLE, quarantine: QUARANTINE_TABLE },
): Promise<InsertReport> {
  const { events: eventsTable, quarantine: quarantineTable } = tables;
  const report: InsertReport = { poisoned: 0, dropped: 0, rejectedEvents: [] };
  // Quarantine lines first: a rejected one is wrapped as a plain {raw, c__error} row.
  const badQ = await insertOrSplit(store, quarantineTable, rows.quarantine, `${batchId}:q`);
  if (badQ.length > 0) {
    const wrapped = badQ.map(({ line, err }) => poisonRow(line, err));
    const again = await insertOrSplit(store, quarantineTable, wrapped, `${batchId}:q:poison`);
    report.poisoned += badQ.length - again.length;
    report.dropped += again.length;
  }
  const badE = await insertOrSplit(store, eventsTable, rows.events, `${batchId}:e`);
  if (badE.length > 0) {
    report.rejectedEvents = badE.map((b) => b.line);
    const wrapped = badE.map(({ line, err }) => poisonRow(line, err));
    const again = await insertOrSplit(store, quarantineTable, wrapped, `${batchId}:e:poison`);
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
  store: Store,
  table: string,
  lines: readonly string[],
  token: string,
): Promise<Rejected[]> {
  try {
    await store.insert(table, lines, token);
    return [];
  } catch (err) {
    if (isRetryableInsertError(err)) throw err;
    if (lines.length === 1) return [{ line: lines[0]!, err }];
    const mid = lines.length >>> 1;
    const left = await insertOrSplit(store, table, lines.slice(0, mid), `${token}/0`);
    const right = await insertOrSplit(store, table, lines.slice(mid), `${token}/1`);
    return left.concat(right);
  }
}

function poisonRow(line: string, err: unknown): string {
  return rejectedLine(line, insertErrorReason(err));
}
