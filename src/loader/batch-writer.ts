import type { Store } from '../clickhouse/store.js';
import { EVENTS_TABLE } from '../clickhouse/tables.js';
import { type Log, silentLog } from '../log/index.js';
import type { IngestRows } from '../queue/types.js';
import { insertBatchIsolating } from './insert-batch.js';
import { type LoaderObserver, NO_OBSERVER } from './observer.js';
import { eventIdOf, RecentIds } from './recent-ids.js';

export interface WriteReport {
  /** Event rows sent to feature_events. */
  events: number;
  /** Event rows dropped because their event_id was stored recently (client re-sends). */
  duplicates: number;
  /** Rows ClickHouse rejected for a data reason, moved to the quarantine table. */
  poisoned: number;
}

/**
 * What both batchers (the spool in embedded mode, the Kafka consumer) hand a batch to:
 *  1. drops events whose event_id is in the recent-ids window (DEDUP_WINDOW) or repeated
 *     inside the batch: a client re-sending an event is not counted twice;
 *  2. inserts with the batch's deterministic token, isolating poison rows into quarantine.
 * Transient errors are thrown: the caller retries the same call, with the same rows,
 * until it succeeds. The window learns a batch's ids only once they are stored, so a
 * failed or abandoned attempt never hides a row from the next one.
 */
export class BatchWriter {
  readonly recent: RecentIds;
  /** Told of every stored batch and failed attempt (metrics); the loaders tell it of retries. */
  readonly observer: LoaderObserver;
  private readonly log: Log;

  constructor(
    private readonly store: Store,
    options: { dedupWindow: number; log?: Log; observer?: LoaderObserver },
  ) {
    this.recent = new RecentIds(options.dedupWindow);
    this.log = options.log ?? silentLog;
    this.observer = options.observer ?? NO_OBSERVER;
  }

  /**
   * Fills the window with the most recently inserted event_ids (last 24 hours at most), so
   * dedup survives a restart. Run once at start, before replaying the queue.
   */
  async warm(): Promise<void> {
    if (this.recent.capacity <= 0) return;
    const rows = await this.store.query<{ event_id: string }>(
      `SELECT event_id FROM (SELECT event_id, inserted_at FROM ${EVENTS_TABLE} WHERE inserted_at >= now() - INTERVAL 1 DAY ORDER BY inserted_at DESC LIMIT ${Math.floor(this.recent.capacity)}) ORDER BY inserted_at`,
    );
    for (const { event_id } of rows) this.recent.add(event_id);
    this.log('info', 'dedup window loaded', { event_ids: this.recent.size, capacity: this.recent.capacity });
  }

  /**
   * Which event rows to drop: event_ids in the window or repeated earlier in the batch.
   * Returns their indexes in rows.events. Call once per batch and keep the answer with the
   * batch (spool checkpoint, Kafka commit metadata): a replay after a crash must send
   * exactly the rows of the first attempt, because ClickHouse deduplicates materialized
   * views by token *and* content, and a replay with other rows would be counted twice in
   * the rollups.
   */
  select(rows: IngestRows): number[] {
    const skip: number[] = [];
    if (this.recent.capacity <= 0) return skip;
    const seen = new Set<string>();
    rows.events.forEach((line, i) => {
      const id = eventIdOf(line);
      if (id === undefined) return;
      if (this.recent.has(id) || seen.has(id)) skip.push(i);
      else seen.add(id);
    });
    return skip;
  }

  /** Inserts the batch minus the `skip` indexes (from select(), or as recorded for a replay). */
  async write(rows: IngestRows, batchId: string, skip: readonly number[] = []): Promise<WriteReport> {
    const dropped = new Set(skip);
    const events = dropped.size > 0 ? rows.events.filter((_, i) => !dropped.has(i)) : rows.events;
    const duplicates = rows.events.length - events.length;
    const sent = duplicates > 0 ? { events, quarantine: rows.quarantine } : rows;
    const started = performance.now();
    let report: Awaited<ReturnType<typeof insertBatchIsolating>>;
    try {
      report = await insertBatchIsolating(this.store, sent, batchId);
    } catch (err) {
      this.observer.insertFailed((performance.now() - started) / 1000);
      throw err;
    }
    this.observer.batchStored({
      rows: sent,
      events: events.length - report.rejectedEvents.length,
      // Rejected events and bad quarantine lines are stored wrapped, except the `dropped` ones.
      quarantine: rows.quarantine.length + report.rejectedEvents.length - report.dropped,
      duplicates,
      seconds: (performance.now() - started) / 1000,
    });
    if (this.recent.capacity > 0) {
      const rejected = new Set(report.rejectedEvents);
      for (const line of events) {
        const id = eventIdOf(line);
        if (id !== undefined && !rejected.has(line)) this.recent.add(id);
      }
    }
    if (duplicates > 0) this.log('debug', 'dropped re-sent event_ids', { batch: batchId, duplicates });
    if (report.poisoned > 0 || report.dropped > 0)
      this.log('warn', 'ClickHouse rejected rows: moved to quarantine', {
        batch: batchId,
        poisoned: report.poisoned,
        dropped: report.dropped,
      });
    return { events: events.length - report.rejectedEvents.length, duplicates, poisoned: report.poisoned };
  }
}
