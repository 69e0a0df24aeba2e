import type { Store } from '../clickhouse/store.js';
import { EVENTS_TABLE } from '../clickhouse/tables.js';
import { rejectedLine } from '../ingest/quarantine-row.js';
import { type Log, silentLog } from '../log/index.js';
import { DEFAULT_DATASOURCE, datasourceOf, type IngestRows } from '../queue/types.js';
import { type InsertReport, insertBatchIsolating } from './insert-batch.js';
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
 *     inside the batch: a client re-sending an event is not counted twice (feature_events
 *     only: other datasources have no event_id, their exactly-once is the range's token);
 *  2. inserts with the batch's deterministic token, isolating poison rows into quarantine,
 *     into the tables of the rows' datasource.
 * Transient errors are thrown: the caller retries the same call, with the same rows,
 * until it succeeds. The window learns a batch's ids only once they are stored, so a
 * failed or abandoned attempt never hides a row from the next one.
 */
export class BatchWriter {
  readonly recent: RecentIds;
  /** Told of every stored batch and failed attempt (metrics); the loaders tell it of retries. */
  readonly observer: LoaderObserver;
  private readonly log: Log;

  private readonly datasources: ReadonlySet<string>;

  constructor(
    private readonly store: Store,
    options: {
      dedupWindow: number;
      log?: Log;
      observer?: LoaderObserver;
      /** The project's datasources, besides feature_events: the tables rows may name. */
      datasources?: Iterable<string>;
    },
  ) {
    this.recent = new RecentIds(options.dedupWindow);
    this.log = options.log ?? silentLog;
    this.observer = options.observer ?? NO_OBSERVER;
    this.datasources = new Set(options.datasources ?? []);
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
    if (this.recent.capacity <= 0 || datasourceOf(rows) !== DEFAULT_DATASOURCE) return skip;
    const seen = new Set<string>();
    rows.events.forEach((line, i) => {
      const id = eventIdOf(line);
      if (id === undefined) return;
      if (this.recent.has(id) || seen.has(id)) skip.push(i);
      else seen.add(id);
    });
    return skip;
  }

  /**
   * select() over a queue range split by datasource (splitByDatasource): the indexes are
   * among feature_events' rows, the only ones with event_ids.
   */
  selectRange(groups: readonly IngestRows[]): number[] {
    const events = groups.find((g) => datasourceOf(g) === DEFAULT_DATASOURCE);
    return events ? this.select(events) : [];
  }

  /** write() of each datasource's rows of a queue range, one after the other, under the range's token. */
  async writeRange(
    groups: readonly IngestRows[],
    batchId: string,
    skip: readonly number[] = [],
  ): Promise<WriteReport> {
    const total: WriteReport = { events: 0, duplicates: 0, poisoned: 0 };
    for (const g of groups) {
      const r = await this.write(g, batchId, datasourceOf(g) === DEFAULT_DATASOURCE ? skip : []);
      total.events += r.events;
      total.duplicates += r.duplicates;
      total.poisoned += r.poisoned;
    }
    return total;
  }

  /**
   * Inserts the batch minus the `skip` indexes (from select(), or as recorded for a replay),
   * into its datasource's tables. Rows for a datasource the project does not have (removed
   * from it, or named by another Kafka producer) go to feature_events_quarantine with that
   * reason: a table that does not exist would fail the insert on every retry, and the name
   * never becomes part of SQL.
   */
  async write(rows: IngestRows, batchId: string, skip: readonly number[] = []): Promise<WriteReport> {
    const ds = datasourceOf(rows);
    if (ds !== DEFAULT_DATASOURCE) return this.writeOther(ds, rows, batchId);
    const dropped = new Set(skip);
    const events = dropped.size > 0 ? rows.events.filter((_, i) => !dropped.has(i)) : rows.events;
    const duplicates = rows.events.length - events.length;
    const sent = duplicates > 0 ? { events, quarantine: rows.quarantine } : rows;
    const report = await this.insert(sent, batchId, duplicates);
    if (this.recent.capacity > 0) {
      // Rejections are rare: without them, no row's whole line is hashed to look it up.
      const rejected = report.rejectedEvents.length > 0 ? new Set(report.rejectedEvents) : undefined;
      for (const line of events) {
        const id = eventIdOf(line);
        if (id !== undefined && !rejected?.has(line)) this.recent.add(id);
      }
    }
    if (duplicates > 0) this.log('debug', 'dropped re-sent event_ids', { batch: batchId, duplicates });
    this.logRejected(batchId, report);
    return { events: events.length - report.rejectedEvents.length, duplicates, poisoned: report.poisoned };
  }

  private async writeOther(ds: string, rows: IngestRows, batchId: string): Promise<WriteReport> {
    // The datasource in the token: a range holds several datasources' rows, each its own insert.
    const id = `${batchId}:${encodeURIComponent(ds)}`;
    if (!this.datasources.has(ds)) {
      const reason = `unknown datasource ${JSON.stringify(ds)}: not in the project`;
      const lines = [...rows.events, ...rows.quarantine].map((l) => rejectedLine(l, reason));
      this.log('warn', 'rows for a datasource the project does not have: moved to quarantine', {
        batch: id,
        rows: lines.length,
      });
      const report = await this.insert({ events: [], quarantine: lines }, id, 0);
      return { events: 0, duplicates: 0, poisoned: lines.length - report.dropped };
    }
    const report = await this.insert(rows, id, 0, { events: ds, quarantine: `${ds}_quarantine` });
    this.logRejected(id, report);
    return {
      events: rows.events.length - report.rejectedEvents.length,
      duplicates: 0,
      poisoned: report.poisoned,
    };
  }

  /** insertBatchIsolating, timed and told to the observer (metrics). */
  private async insert(
    sent: IngestRows,
    batchId: string,
    duplicates: number,
    tables?: { events: string; quarantine: string },
  ): Promise<InsertReport> {
    const started = performance.now();
    let report: InsertReport;
    try {
      report = await insertBatchIsolating(this.store, sent, batchId, tables);
    } catch (err) {
      this.observer.insertFailed((performance.now() - started) / 1000);
      throw err;
    }
    this.observer.batchStored({
      rows: sent,
      tables,
      events: sent.events.length - report.rejectedEvents.length,
      // Rejected events and bad quarantine lines are stored wrapped, except the `dropped` ones.
      quarantine: sent.quarantine.length + report.rejectedEvents.length - report.dropped,
      duplicates,
      seconds: (performance.now() - started) / 1000,
    });
    return report;
  }

  private logRejected(batch: string, report: InsertReport): void {
    if (report.poisoned > 0 || report.dropped > 0)
      this.log('warn', 'ClickHouse rejected rows: moved to quarantine', {
        batch,
        poisoned: report.poisoned,
        dropped: report.dropped,
      });
  }
}
