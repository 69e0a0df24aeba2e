import { open as openFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { retry, STOPPED, sleep } from '../lib/retry.js';
import type { StoreHealth } from '../queue/health.js';
import { encodeRecord } from '../queue/spool/record.js';
import { type Position, SpoolLog } from '../queue/spool/spool-log.js';
import {
  type Acceptance,
  type AppendOptions,
  BackpressureError,
  type EventSink,
  type IngestRows,
} from '../queue/types.js';
import { batchToken } from './batch-intent.js';
import type { BatchWriter } from './batch-writer.js';
import { splitByDatasource } from './datasource-rows.js';
import { insertDueAt } from './insert-pacing.js';
import { type Checkpoint, readCheckpoint, writeCheckpoint } from './spool-checkpoint.js';

export interface SpoolLoaderOptions {
  dir: string;
  batchMaxRows: number;
  batchMaxWaitMs: number;
  /** BATCH_MIN_INTERVAL_MS: inserts start at least this far apart unless the batch is full (insertDueAt). */
  batchMinIntervalMs?: number;
  maxPendingBytes: number;
  segmentBytes?: number;
  /**
   * Spool bytes of waiting rows kept in memory as well; the rows of later requests are read
   * back from the spool when their batch is taken. A backlog up to maxPendingBytes then costs
   * disk (and page cache), not heap: held as JS strings, a 253 MiB backlog went with 805 MiB
   * of Node's heap while loading 2M events (docs/performance.md). Unset: all are kept.
   */
  memoryBytes?: number;
  /** Inserts a batch (dedup window, poison-row isolation). */
  writer: BatchWriter;
  /** Told when the spool cannot be written or inserts keep failing (/v0/ready). */
  health?: StoreHealth;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

interface Chunk extends Position {
  /** Its rows; undefined when they were left in the spool (memoryBytes). */
  rows?: IngestRows;
  /** How many rows it holds (events and quarantine lines). */
  count: number;
  bytes: number;
  /** When it was added (performance.now()): a batch is due BATCH_MAX_WAIT_MS after its oldest chunk. */
  at: number;
  committed?: { resolve: () => void; reject: (err: Error) => void };
  /** Its caller waits for the insert (AppendOptions.waiting). */
  waiting?: boolean;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

/**
 * Embedded mode's loader: requests' rows go to the spool (queue/spool, the transport) and
 * from there, in batches, into ClickHouse. Why a durable spool rather than acknowledging after the insert:
 * a 202 must survive a SIGKILL the next instant, and waiting for a ClickHouse insert per
 * request would make every request pay a batch interval. So a request is acknowledged
 * once its rows are fsynced to the spool (group-committed across concurrent requests);
 * the batcher then inserts spool ranges into ClickHouse with a token derived from the
 * byte range, and a restart replays whatever was not yet inserted. wait=true waits for
 * the insert itself (200).
 */
export class SpoolLoader implements EventSink {
  private readonly log: SpoolLog;
  private pending: Chunk[] = [];
  private pendingRows = 0;
  private pendingBytes = 0;
  /** Spool bytes of the waiting chunks whose rows are in memory. */
  private heldBytes = 0;
  private timer?: NodeJS.Timeout;
  /** When the timer fires (performance.now()). */
  private timerAt = 0;
  private flushing?: Promise<void>;
  /** When the last insert started (performance.now()). */
  private lastInsertAt = Number.NEGATIVE_INFINITY;
  /** Waiting chunks whose caller waits for the insert: while any does, no interval applies. */
  private waitingChunks = 0;
  private closed = false;
  private checkpoint: Checkpoint = { segment: 1, offset: 0 };
  private readonly writer: BatchWriter;

  private constructor(private readonly options: SpoolLoaderOptions) {
    this.log = new SpoolLog(options.dir, options.segmentBytes);
    this.writer = options.writer;
  }

  /** Opens the spool and inserts whatever a previous process accepted but did not store. */
  static async open(options: SpoolLoaderOptions): Promise<SpoolLoader> {
    const sink = new SpoolLoader(options);
    await sink.recover();
    return sink;
  }

  private async recover(): Promise<void> {
    const dir = this.options.dir;
    this.checkpoint = await readCheckpoint(dir);
    const { inflight } = this.checkpoint;
    if (inflight) {
      // The batch that was being inserted at the crash: same range, same token.
      const records = (await this.log.segments()).includes(inflight.segment)
        ? (await this.log.read(inflight.segment, inflight.start)).filter((r) => r.end <= inflight.end)
        : [];
      const rows = splitByDatasource(records.map((r) => r.rows));
      await this.withRetry(
        batchId(inflight),
        async () => {
          await this.writer.writeRange(rows, batchId(inflight), inflight.skip ?? []);
        },
        () => false,
      );
      this.checkpoint = { segment: inflight.segment, offset: inflight.end };
      await writeCheckpoint(dir, this.checkpoint);
    }
    let replayed = 0;
    for (const segment of await this.log.segments()) {
      if (segment < this.checkpoint.segment) continue;
      const from = segment === this.checkpoint.segment ? this.checkpoint.offset : 0;
      for (const r of await this.log.read(segment, from)) {
        this.addChunk({ segment, start: r.start, end: r.end }, r.rows);
        replayed += r.rows.events.length + r.rows.quarantine.length;
      }
    }
    await this.log.deleteBefore(this.checkpoint.segment);
    await this.log.openForAppend(this.checkpoint.segment);
    if (replayed > 0)
      this.options.log?.('info', 'spool: replaying rows accepted before the last stop', { rows: replayed });
    this.scheduleFlush();
  }

  checkCapacity(bytes: number): void {
    if (this.closed) throw new BackpressureError('The service is shutting down', 5);
    if (this.pendingBytes + bytes > this.options.maxPendingBytes) {
      throw new BackpressureError(
        `Ingest is behind: ${this.pendingBytes} bytes are waiting for ClickHouse (limit ${this.options.maxPendingBytes})`,
        2,
      );
    }
  }

  async append(rows: IngestRows, opts: AppendOptions = {}): Promise<Acceptance> {
    let committed!: Promise<void>;
    try {
      await this.appendRecord(rows, opts.waiting === true, (c) => {
        committed = c;
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      this.options.health?.fail(
        'spool',
        `cannot write the spool at ${this.options.dir}: ${code === 'ENOSPC' ? 'the disk is full (ENOSPC)' : (err as Error).message}`,
        () => probeWrite(this.options.dir),
      );
      throw err;
    }
    this.options.health?.ok('spool');
    // Nobody may wait on it (202 replies): keep an unobserved rejection from crashing us.
    committed.catch(() => {});
    return { committed };
  }

  private async appendRecord(
    rows: IngestRows,
    waiting: boolean,
    setCommitted: (p: Promise<void>) => void,
  ): Promise<void> {
    await this.log.append(encodeRecord(rows), (position) => {
      const committed = new Promise<void>((resolve, reject) => {
        this.addChunk(position, rows, { resolve, reject }, waiting);
      });
      setCommitted(committed);
      this.scheduleFlush();
    });
  }

  private addChunk(
    position: Position,
    rows: IngestRows,
    committed?: Chunk['committed'],
    waiting = false,
  ): void {
    const bytes = position.end - position.start;
    const count = rows.events.length + rows.quarantine.length;
    // Past the memory budget only the position is kept: the rows are in the spool already.
    const keep = this.heldBytes + bytes <= (this.options.memoryBytes ?? Number.POSITIVE_INFINITY);
    if (keep) this.heldBytes += bytes;
    this.pending.push({
      ...position,
      rows: keep ? rows : undefined,
      count,
      bytes,
      at: performance.now(),
      committed,
      waiting,
    });
    if (waiting) this.waitingChunks++;
    this.pendingRows += count;
    this.pendingBytes += bytes;
  }

  /**
   * Starts an insert once a batch is due: BATCH_MAX_ROWS rows are waiting, or the oldest
   * waiting row has waited BATCH_MAX_WAIT_MS and the last insert started BATCH_MIN_INTERVAL_MS
   * ago (insertDueAt).
   */
  private scheduleFlush(): void {
    if (this.flushing || this.pending.length === 0) return;
    if (this.pendingRows >= this.options.batchMaxRows) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.flushing = this.flushLoop();
      return;
    }
    if (this.closed) return; // close() inserts what is left itself
    const due = this.dueAt(this.pending[0]!);
    // A timer set for later is moved up: a wait=true row makes the batch due sooner.
    if (this.timer && this.timerAt <= due) return;
    clearTimeout(this.timer);
    this.timerAt = due;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        if (!this.flushing) this.flushing = this.flushLoop();
      },
      Math.max(0, due - performance.now()),
    );
  }

  private dueAt(oldest: Chunk): number {
    const { batchMaxWaitMs, batchMinIntervalMs = 0 } = this.options;
    // Someone waits for this insert (wait=true): BATCH_MAX_WAIT_MS only, as for a lone row.
    const interval = this.waitingChunks > 0 ? 0 : batchMinIntervalMs;
    return insertDueAt(oldest.at, batchMaxWaitMs, this.lastInsertAt, interval);
  }

  /** Whether the rows waiting now make a batch that is due (see scheduleFlush). */
  private batchDue(): boolean {
    const oldest = this.pending[0];
    if (!oldest) return false;
    return (
      this.pendingRows >= this.options.batchMaxRows || performance.now() >= this.dueAt(oldest) || this.closed
    );
  }

  /**
   * Inserts batches one at a time while one is due. Rows that arrived during an insert
   * wait for their own batch to be due rather than going out at once as a small batch:
   * under a steady stream of small requests, inserting whatever came in during the last
   * insert made batches of a few hundred rows, and with the materialized views a small
   * insert costs about as much as a large one.
   */
  private async flushLoop(): Promise<void> {
    try {
      for (let first = true; this.pending.length > 0 && (first || this.batchDue()); first = false) {
        const batch = this.takeBatch();
        this.lastInsertAt = performance.now();
        const range = { segment: batch[0]!.segment, start: batch[0]!.start, end: batch.at(-1)!.end };
        const checkpoint = { segment: range.segment, offset: range.end };
        // The rows and the dedup window's choice are made once per batch (the first attempt
        // that reads them): a replay must send the same rows (see BatchWriter.select).
        let prepared: { batchRows: IngestRows[]; skip: number[] } | undefined;
        // The checkpoint writes (and reading rows back from the spool) are retried with the
        // insert: on a full or failing disk they fail too, and re-inserting after a failed
        // final write is harmless (same token).
        const ok = await this.withRetry(
          batchId(range),
          async () => {
            if (!prepared) {
              const batchRows = splitByDatasource(await this.rowsOf(batch));
              prepared = { batchRows, skip: this.writer.selectRange(batchRows) };
            }
            const { batchRows, skip } = prepared;
            await writeCheckpoint(this.options.dir, {
              ...this.checkpoint,
              inflight: skip.length > 0 ? { ...range, skip } : range,
            });
            await this.writer.writeRange(batchRows, batchId(range), skip);
            await writeCheckpoint(this.options.dir, checkpoint);
          },
          () => this.closed && this.closeDeadline < Date.now(),
        );
        if (!ok) {
          // Shutting down with ClickHouse unavailable: the rows stay in the spool for the next start.
          this.pending.unshift(...batch);
          for (const c of batch) {
            if (c.rows) this.heldBytes += c.bytes;
            if (c.waiting) this.waitingChunks++;
          }
          return;
        }
        this.checkpoint = checkpoint;
        let rows = 0;
        for (const c of batch) {
          rows += c.count;
          this.pendingBytes -= c.bytes;
          c.committed?.resolve();
        }
        this.pendingRows -= rows;
        // Every segment before the oldest one still holding pending rows is fully inserted.
        const oldestNeeded = this.pending[0]?.segment ?? this.log.currentSegment;
        if (oldestNeeded > this.lastDeletedBefore) {
          // Space only: a segment left behind is deleted on a later pass or at the next start.
          await this.log.deleteBefore(oldestNeeded).then(
            () => {
              this.lastDeletedBefore = oldestNeeded;
            },
            (err: Error) =>
              this.options.log?.('warn', 'could not delete inserted spool segments', { error: err.message }),
          );
        }
      }
    } finally {
      this.flushing = undefined;
    }
    this.scheduleFlush();
  }

  /**
   * Up to batchMaxRows rows of contiguous chunks from one segment (a byte range = a token).
   * Chunks of several datasources may share a range: each datasource's rows of it are one
   * insert (splitByDatasource), so a datasource switch does not cut the batch small.
   */
  private takeBatch(): Chunk[] {
    const first = this.pending[0]!;
    let rows = 0;
    let n = 0;
    for (const c of this.pending) {
      if (c.segment !== first.segment) break;
      rows += c.count;
      n++;
      if (rows >= this.options.batchMaxRows) break;
    }
    const batch = this.pending.splice(0, n);
    // The batch's rows are the insert's now; the budget is for the chunks still waiting.
    for (const c of batch) {
      if (c.rows) this.heldBytes -= c.bytes;
      if (c.waiting) this.waitingChunks--;
    }
    return batch;
  }

  /**
   * A batch's rows in order: those held in memory, and the rest read back from the spool in
   * one read (its chunks are contiguous records of one segment, fsynced before they were
   * acknowledged).
   */
  private async rowsOf(batch: readonly Chunk[]): Promise<IngestRows[]> {
    const missing = batch.filter((c) => c.rows === undefined);
    const first = missing[0];
    if (!first) return batch.map((c) => c.rows as IngestRows);
    const records = await this.log.readRange(first.segment, first.start, (missing.at(-1) as Chunk).end);
    const read = new Map(records.map((r) => [r.start, r.rows]));
    return batch.map((c) => {
      const rows = c.rows ?? read.get(c.start);
      if (!rows) throw new Error(`spool segment ${c.segment}: no record at byte ${c.start}`);
      return rows;
    });
  }

  private closeDeadline = Number.POSITIVE_INFINITY;
  private lastDeletedBefore = 0;

  /**
   * Runs `attempt` until it succeeds: transient errors are retried with backoff, forever,
   * unless giveUp() says stop (shutdown past its deadline); poison rows never throw (they
   * go to quarantine inside the writer). The wait between attempts ends early at the
   * shutdown deadline, so a stop under failing inserts keeps its bound.
   */
  private async withRetry(id: string, attempt: () => Promise<void>, giveUp: () => boolean): Promise<boolean> {
    const done = await retry(attempt, {
      minMs: RETRY_MIN_MS,
      maxMs: RETRY_MAX_MS,
      stop: giveUp,
      wait: (ms) => sleep(Math.min(ms, Math.max(0, this.closeDeadline - Date.now()))),
      onError: (err, n, delay) => {
        this.writer.observer.insertRetried();
        this.options.health?.insertFailed(n, err);
        this.options.log?.('warn', 'insert failed, will retry', {
          batch: id,
          attempt: n,
          retry_in_ms: delay,
          error: (err as Error).message.slice(0, 300),
        });
      },
    });
    if (done === STOPPED) return false;
    this.options.health?.ok('inserts');
    return true;
  }

  /** Rows accepted and not yet in ClickHouse (for /v0/health and metrics). */
  stats() {
    return { pending_rows: this.pendingRows, pending_bytes: this.pendingBytes };
  }

  /**
   * Stops accepting, inserts what is pending for at most `timeoutMs`, closes the spool.
   * Past the deadline whatever is not inserted stays in the spool for the next start (an
   * insert still running then is replayed with its token, so it cannot count twice).
   */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    this.closeDeadline = Date.now() + timeoutMs;
    clearTimeout(this.timer);
    this.timer = undefined;
    const drain = (async () => {
      while (this.pending.length > 0 && Date.now() < this.closeDeadline) {
        this.flushing ??= this.flushLoop();
        await this.flushing;
        if (this.pending.length > 0) await new Promise((r) => setTimeout(r, 50));
      }
      await this.flushing;
    })();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => {
      timer = setTimeout(r, timeoutMs + 100);
    });
    await Promise.race([drain, deadline]);
    clearTimeout(timer);
    await this.log.close();
  }
}

/** Whether the spool's disk takes writes again: a page-sized write, fsynced, then removed. */
async function probeWrite(dir: string): Promise<void> {
  const path = join(dir, '.write-probe');
  try {
    const handle = await openFile(path, 'w');
    try {
      await handle.writeFile(Buffer.alloc(64 * 1024));
      await handle.sync();
    } finally {
      await handle.close();
    }
  } finally {
    await rm(path, { force: true });
  }
}

function batchId(range: { segment: number; start: number; end: number }): string {
  return batchToken(`spool:${range.segment}`, range);
}
