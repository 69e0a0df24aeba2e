/**
 * How long a Kafka partition's buffered rows wait before their insert.
 *
 * The loader inserts one partition's rows at a time, and with the materialized views an
 * INSERT costs about 100 ms of CPU whatever its size (docs/performance.md, "Where Kafka-mode
 * ingest waits"). Waiting a fixed BATCH_MAX_WAIT_MS, a loaded consumer ends up inserting back
 * to back: each partition's insert holds what arrived while the other partitions were
 * inserted (~5,000 rows at 27k ev/s over 12 partitions), most of the CPU goes to the fixed
 * part, and on a shared machine it is taken from the api.
 *
 * So a partition waits at least BATCH_MAX_WAIT_MS, and also `spread` times as long as
 * inserting the *other* partitions that are waiting takes (their count times the recent
 * insert time; the loader counts those whose rows waited BATCH_MAX_WAIT_MS already): the
 * loader is then busy at most about 1/spread of the time and each insert is that much bigger.
 * The wait is capped (maxWaitMs). A lone partition, as at low rates, waits BATCH_MAX_WAIT_MS
 * and no more, so freshness at low rates is unchanged.
 */
export class InsertPacing {
  /** Recent insert wall time (ms), averaged; undefined before the first insert. */
  private insertMs: number | undefined;

  constructor(
    private readonly opts: {
      /** BATCH_MAX_WAIT_MS: the least a row waits. */
      minWaitMs: number;
      /** The most a row waits before its insert is due, however busy the loader is. */
      maxWaitMs: number;
      /** How many times the others' insert time a partition waits (default 2). */
      spread?: number;
    },
  ) {}

  /** Told the wall time of each insert. */
  inserted(ms: number): void {
    // Mostly the recent inserts: the rate and the insert sizes change within seconds.
    this.insertMs = this.insertMs === undefined ? ms : this.insertMs * 0.7 + ms * 0.3;
  }

  /** How long the oldest buffered row of a partition waits, while `others` other partitions hold rows. */
  waitMs(others: number): number {
    const { minWaitMs, maxWaitMs } = this.opts;
    const busy = (this.insertMs ?? 0) * others * (this.opts.spread ?? 2);
    return Math.max(minWaitMs, Math.min(maxWaitMs, busy));
  }
}

/**
 * When a stream's next insert (the spool's, or one Kafka partition's) is due: its oldest row
 * has waited `waitMs`, and `minIntervalMs` (BATCH_MIN_INTERVAL_MS) has passed since the
 * stream's previous insert started. A full batch (BATCH_MAX_ROWS) does not wait for either.
 *
 * Why the interval: with the materialized views an INSERT costs tens of ms of CPU whatever its
 * size (on this project's 2-core machine ~66 ms, part of it the filesystem creating each new
 * part's files; `scripts/bench/insert-cost.ts`). Under a steady stream of single events a
 * 200 ms wait made an insert of a few hundred rows five times a second, and that cost as much
 * CPU as the requests themselves. Spacing the inserts makes each one hold the interval's rows;
 * after a quiet spell the previous insert is long past, so a lone row (the freshness probe,
 * low rates) still waits `waitMs` only. The spool loader passes 0 for the interval while a
 * caller waits for the batch (wait=true, bulk appends: AppendOptions.waiting).
 */
export function insertDueAt(
  oldestAt: number,
  waitMs: number,
  lastInsertAt: number,
  minIntervalMs: number,
): number {
  return Math.max(oldestAt + waitMs, lastInsertAt + minIntervalMs);
}
