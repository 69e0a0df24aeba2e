import { createHash } from 'node:crypto';
import type { Reader } from '../clickhouse/reader.js';
import type { Store } from '../clickhouse/store.js';
import { EVENTS_TABLE, QUARANTINE_TABLE } from '../clickhouse/tables.js';
import type { PiiGuard } from '../ingest/pii/index.js';
import { assertLedger, REPLAYS_TABLE, ROW_KEY, UNREPLAYED } from './ledger.js';
import { revalidate, type Verdict } from './revalidate.js';
import type { ReplayStep } from './steps.js';

export interface ReplayCounts {
  examined: number;
  stored: number;
  requarantined: number;
  unchanged: number;
  /** Unfinished batches of an earlier, interrupted replay that this run completed. */
  resumed: number;
}

interface QuarantineRow {
  key: string;
  insertion_date: string;
  raw: string;
  c__error: string[];
}

/**
 * `quarantine replay`: re-ingests quarantined rows through the normal validation, exactly
 * once. Each batch of rows whose fate changes is
 *   1. claimed in the ledger under a batch id made from the rows' keys,
 *   2. stored: valid rows into feature_events, rows failing for a new reason into the
 *      quarantine again, each insert under a deduplication token named after the batch,
 *   3. marked done.
 * A run that dies anywhere leaves claimed rows of a batch without 'done'; the next run first
 * re-does exactly those batches with the same tokens, so an insert that had landed is dropped
 * by ClickHouse and one that had not is made now. Claimed rows count as replayed: `quarantine
 * list` hides them and a later replay skips them. Rows failing for the same reason as before
 * are left as they are.
 */
export async function replayQuarantine(
  client: Reader,
  store: Store,
  opts: {
    batchRows: number;
    /** The PII guard new events pass (PII_POLICY); replayed rows pass it too. */
    pii?: PiiGuard;
    onBatch?: (counts: ReplayCounts) => void;
    /** Tests: after this step of the first batch, hand control to `crash` (which kills the process). */
    crashAfter?: ReplayStep;
    crash?: () => never;
  },
): Promise<ReplayCounts> {
  await assertLedger(client);
  const counts: ReplayCounts = { examined: 0, stored: 0, requarantined: 0, unchanged: 0, resumed: 0 };
  const step = (s: ReplayStep) => {
    if (opts.crashAfter === s) opts.crash?.();
  };
  for (const batch of await unfinishedBatches(client)) {
    const rows = await select(
      client,
      `${ROW_KEY} IN (SELECT row_key FROM ${REPLAYS_TABLE} WHERE batch = {batch:String} AND state = 'claimed')`,
      { batch },
    );
    await storeBatch(
      store,
      batch,
      rows.map((r) => revalidate(r.raw, r.c__error, opts.pii)),
      step,
    );
    counts.resumed++;
  }
  // Rows this run quarantines again arrive with insertion_date = now, ahead of the cursor:
  // they are recognised (raw line and reasons) and skipped, not examined a second time.
  const written = new Set<string>();
  let cursor = { date: '1970-01-01 00:00:00', key: '0' };
  for (;;) {
    const selected = await select(
      client,
      `${UNREPLAYED} AND (insertion_date, ${ROW_KEY}) > ({date:DateTime('UTC')}, {key:UInt64})`,
      { ...cursor, limit: opts.batchRows },
    );
    const last = selected.at(-1);
    if (!last) break;
    cursor = { date: last.insertion_date, key: last.key };
    const rows = selected.filter((r) => !written.has(identity(r.raw, r.c__error)));
    const verdicts = rows.map((r) => revalidate(r.raw, r.c__error, opts.pii));
    const claimed = rows.flatMap((r, i) => {
      const v = verdicts[i] as Verdict;
      if (v.outcome === 'unchanged') return [];
      return [{ row: r, verdict: v }];
    });
    counts.examined += rows.length;
    counts.unchanged += rows.length - claimed.length;
    if (claimed.length > 0) {
      const batch = batchId(claimed.map((c) => c.row.key));
      await store.insert(
        REPLAYS_TABLE,
        claimed.map((c) =>
          JSON.stringify({ row_key: c.row.key, batch, state: 'claimed', outcome: c.verdict.outcome }),
        ),
        `${batch}:claim`,
      );
      step('claim');
      await storeBatch(
        store,
        batch,
        claimed.map((c) => c.verdict),
        step,
      );
      for (const { verdict } of claimed) {
        counts[verdict.outcome]++;
        for (const line of verdict.quarantine) {
          const q = JSON.parse(line) as { raw: string; c__error: string[] };
          written.add(identity(q.raw, q.c__error));
        }
      }
    }
    opts.onBatch?.(counts);
  }
  return counts;
}

/** Steps 2 and 3 of a batch; safe to run again for the same batch (same tokens). */
async function storeBatch(store: Store, batch: string, verdicts: Verdict[], step: (s: ReplayStep) => void) {
  const events = verdicts.flatMap((v) => (v.outcome === 'unchanged' ? [] : v.events));
  const quarantine = verdicts.flatMap((v) => (v.outcome === 'unchanged' ? [] : v.quarantine));
  await store.insert(EVENTS_TABLE, events, `${batch}:events`);
  step('events');
  await store.insert(QUARANTINE_TABLE, quarantine, `${batch}:quarantine`);
  step('quarantine');
  await store.insert(
    REPLAYS_TABLE,
    [JSON.stringify({ row_key: '0', batch, state: 'done', outcome: 'none' })],
    `${batch}:done`,
  );
  step('done');
}

/** Batches with claims and no 'done' row: a replay died in them. */
async function unfinishedBatches(client: Reader): Promise<string[]> {
  const rs = await client.query({
    query: `SELECT batch FROM ${REPLAYS_TABLE} GROUP BY batch HAVING countIf(state = 'done') = 0 ORDER BY min(replayed_at), batch`,
    format: 'JSONEachRow',
  });
  return (await rs.json<{ batch: string }>()).map((r) => r.batch);
}

async function select(
  client: Reader,
  where: string,
  params: Record<string, unknown>,
): Promise<QuarantineRow[]> {
  const rs = await client.query({
    query: `SELECT toString(${ROW_KEY}) AS key, insertion_date, raw, c__error FROM ${QUARANTINE_TABLE}
            WHERE ${where} ORDER BY insertion_date, ${ROW_KEY}${params.limit ? ' LIMIT {limit:UInt32}' : ''}`,
    query_params: params,
    format: 'JSONEachRow',
  });
  return rs.json<QuarantineRow>();
}

const identity = (raw: string, errors: string[]) => `${raw}\u0000${JSON.stringify(errors)}`;

/** The same rows make the same id, so a re-run of a batch carries the same tokens. */
function batchId(keys: string[]): string {
  return `replay:${createHash('sha256')
    .update([...keys].sort().join(','))
    .digest('hex')
    .slice(0, 32)}`;
}
