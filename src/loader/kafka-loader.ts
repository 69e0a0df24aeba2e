import type { Admin, Batch, Consumer, KafkaMessage } from 'kafkajs';
import type { Store } from '../clickhouse/store.js';
import type { Config } from '../config/index.js';
import { retry, STOPPED, sleep } from '../lib/retry.js';
import { type Log, silentLog } from '../log/index.js';
import type { StoreHealth } from '../queue/health.js';
import { createKafka, type KafkaConfig } from '../queue/kafka.js';
import { messageDatasource, rowCount, rowsOfMessage } from '../queue/kafka-messages.js';
import { DEFAULT_DATASOURCE, datasourceOf, type IngestRows } from '../queue/types.js';
import {
  type BatchIntent,
  batchToken,
  fitsKafkaMetadata,
  intentFromKafkaMetadata,
  intentToKafkaMetadata,
} from './batch-intent.js';
import { BatchWriter } from './batch-writer.js';
import { splitByDatasource } from './datasource-rows.js';
import { InsertPacing, insertDueAt } from './insert-pacing.js';
import type { LoaderObserver } from './observer.js';

// librdkafka's mock broker waits out maxWaitTimeInMs on every fetch, data or not, and then
// returns one record batch per partition: with 200 ms (and minBytes 1 MB) the loader got
// ~5k rows/s. A real broker answers at once when data is there; idle, this is one fetch per
// 20 ms per consumer.
const FETCH_MAX_WAIT_MS = 20;

export type KafkaLoaderConfig = KafkaConfig &
  Pick<Config, 'BATCH_MAX_ROWS' | 'BATCH_MAX_WAIT_MS'> &
  Partial<Pick<Config, 'KAFKA_MAX_WAIT_BEHIND_MS' | 'BATCH_MIN_INTERVAL_MS'>>;

export interface KafkaLoaderOptions {
  store: Store;
  config: KafkaLoaderConfig;
  log?: Log;
  /** Backoff between failed insert attempts, doubling from min to max (default 100 ms .. 5 s). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Group session timeout (default 30 s); a member silent this long loses its partitions. */
  sessionTimeout?: number;
  /** Fetch size per partition (default BATCH_MAX_ROWS x 400 bytes, 1..64 MB). */
  maxBytesPerPartition?: number;
  /** Partitions processed at once by this consumer (default 1; a ClickHouse server takes more). */
  partitionsConsumedConcurrently?: number;
  /** Recent event_ids remembered to drop client re-sends (DEDUP_WINDOW; default 0 = off). */
  dedupWindow?: number;
  /** Told while inserts keep failing (/v0/ready). */
  health?: StoreHealth;
  /** The project's datasources besides feature_events (a message's x-datasource header names one). */
  datasources?: Iterable<string>;
  /** Told of stored batches, failed attempts and retries (metrics). */
  observer?: LoaderObserver;
}

export interface KafkaLoaderHandle {
  /** Leaves the group after the batch in hand is stored (or abandoned, uncommitted). */
  stop(): Promise<void>;
  /** The partitions this member owns since the last rebalance, by topic. */
  assignment(): Record<string, number[]>;
}

/**
 * The consumer role in Kafka mode: a consumer group over KAFKA_TOPIC and
 * KAFKA_QUARANTINE_TOPIC. Fetched messages are buffered per partition, across fetches, until
 * they hold BATCH_MAX_ROWS rows or the oldest has waited BATCH_MAX_WAIT_MS (longer while other
 * partitions' inserts keep the loader busy, up to KAFKA_MAX_WAIT_BEHIND_MS: see
 * insert-pacing.ts); then they go to
 * ClickHouse as one insert (a message may carry many rows, see queue/kafka-messages.ts; an
 * insert is cut between messages), and the partition's offset is committed only after.
 * Why across fetches: a fetch may hold little (librdkafka's mock broker returns one record
 * batch per partition per fetch), and with the materialized views an insert of 300 rows
 * costs about as much as one of 30,000. A failed insert is retried with backoff, never
 * skipped; a full buffer holds up the fetching of its partition until it is stored.
 *
 * Exactly once: each insert carries the token "<topic>:<partition>:<first>-<last>". For a
 * redelivered range to get the same token it must be cut at the same offsets, but a later
 * fetch may return more messages. So before inserting, the member commits the range's start
 * offset with "insert:<first>-<last>" as commit metadata; whoever resumes from that offset
 * (this member after a restart, or another one after a rebalance) re-inserts exactly that
 * range first, and ClickHouse drops it if it had landed.
 */
export async function startKafkaLoader(opts: KafkaLoaderOptions): Promise<KafkaLoaderHandle> {
  const { store, config } = opts;
  const log = opts.log ?? silentLog;
  const retryMinMs = opts.retryMinMs ?? 100;
  const retryMaxMs = opts.retryMaxMs ?? 5_000;
  const maxRows = config.BATCH_MAX_ROWS;
  const maxBytesPerPartition =
    opts.maxBytesPerPartition ?? Math.min(64 << 20, Math.max(1 << 20, config.BATCH_MAX_ROWS * 400));
  const topics = [config.KAFKA_TOPIC, config.KAFKA_QUARANTINE_TOPIC];
  const pacing = new InsertPacing({
    minWaitMs: config.BATCH_MAX_WAIT_MS,
    maxWaitMs: config.KAFKA_MAX_WAIT_BEHIND_MS ?? config.BATCH_MAX_WAIT_MS,
  });

  const writer = new BatchWriter(store, {
    dedupWindow: opts.dedupWindow ?? 0,
    log,
    observer: opts.observer,
    datasources: opts.datasources,
  });
  await writer.warm();

  const kafka = createKafka(config, log, '-consumer');
  const admin: Admin = kafka.admin();
  const consumer: Consumer = kafka.consumer({
    groupId: config.KAFKA_GROUP_ID,
    sessionTimeout: opts.sessionTimeout ?? 30_000,
    heartbeatInterval: Math.min(3_000, Math.floor((opts.sessionTimeout ?? 30_000) / 3)),
    // Fetches answer as soon as anything is there: batches are built across fetches (see
    // above), so waiting at the broker for a big fetch only adds latency. An idle fetch
    // returns after FETCH_MAX_WAIT_MS.
    minBytes: 1,
    maxWaitTimeInMs: Math.min(FETCH_MAX_WAIT_MS, config.BATCH_MAX_WAIT_MS),
    maxBytesPerPartition,
    maxBytes: Math.max(maxBytesPerPartition, 10 << 20),
    allowAutoTopicCreation: false,
  });

  // Intents known for this generation, "topic:partition" -> intent (null: none pending).
  const intents = new Map<string, BatchIntent | null>();
  let assigned: Record<string, number[]> = {};
  consumer.on(consumer.events.CRASH, (e) =>
    log('error', 'kafka consumer crashed', { error: e.payload.error.message, restart: e.payload.restart }),
  );

  async function intentFor(topic: string, partition: number): Promise<BatchIntent | null> {
    const key = `${topic}:${partition}`;
    const known = intents.get(key);
    if (known !== undefined) return known;
    const [offsets] = await admin.fetchOffsets({ groupId: config.KAFKA_GROUP_ID, topics: [topic] });
    const intent = intentFromKafkaMetadata(
      offsets?.partitions.find((p) => p.partition === partition)?.metadata,
    );
    intents.set(key, intent);
    return intent;
  }

  async function commit(topic: string, partition: number, offset: number, intent: BatchIntent | null) {
    await consumer.commitOffsets([
      { topic, partition, offset: String(offset), metadata: intent ? intentToKafkaMetadata(intent) : null },
    ]);
    intents.set(`${topic}:${partition}`, intent);
  }

  /** A range's rows, one group per datasource (a message's x-datasource header, feature_events without). */
  function toRows(topic: string, messages: KafkaMessage[]): IngestRows[] {
    const parts = messages.map((m): IngestRows => {
      const lines = rowsOfMessage(m);
      const datasource = messageDatasource(m);
      return topic === config.KAFKA_TOPIC
        ? { events: lines, quarantine: [], datasource }
        : { events: [], quarantine: lines, datasource };
    });
    return splitByDatasource(parts);
  }

  /** How many of the buffered messages make one insert: up to maxRows rows, at least one message. */
  function cutByRows(entries: Buffered[]): number {
    let rows = 0;
    let n = 0;
    while (n < entries.length && (n === 0 || rows + (entries[n] as Buffered).rows <= maxRows))
      rows += (entries[n++] as Buffered).rows;
    return n;
  }

  // The current group generation: a rebalance may hand our partitions to another member,
  // so buffers and in-flight retries of an older generation are dropped, never committed.
  let generation = 0;
  let stopping = false;
  let heartbeat: () => Promise<void> = async () => {};
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    generation++;
    buffers.clear();
    intents.clear(); // another member may have left intents on partitions we now own
    assigned = e.payload.memberAssignment;
    log('info', 'kafka consumer joined group', { assignment: assigned, groupId: e.payload.groupId });
  });

  /** Inserts until it succeeds; false if the generation changed or the loader stops first. */
  async function insertWithRetry(
    rows: IngestRows[],
    batchId: string,
    skip: readonly number[],
    lost: () => boolean,
  ): Promise<boolean> {
    const done = await retry(
      async (attempt) => {
        // Transient errors throw and are retried here; poison rows go to quarantine inside.
        await writer.writeRange(rows, batchId, skip);
        opts.health?.ok('inserts');
        if (attempt > 1) log('info', 'insert succeeded after retries', { batchId, attempts: attempt });
      },
      {
        minMs: retryMinMs,
        maxMs: retryMaxMs,
        stop: lost,
        onError: (err, attempt, delay) => {
          writer.observer.insertRetried();
          opts.health?.insertFailed(attempt, err);
          log('warn', 'insert failed, will retry', {
            batchId,
            attempt,
            error: (err as Error).message,
            delay,
          });
        },
        // Sleep in short steps, heartbeating, so a stop or a rebalance is noticed promptly.
        wait: async (delay) => {
          for (const until = Date.now() + delay; Date.now() < until && !lost(); ) {
            await sleep(Math.min(100, until - Date.now()));
            await heartbeat().catch(() => {});
          }
        },
      },
    );
    return done !== STOPPED;
  }

  /** Fetched, not yet stored messages of one partition, contiguous from its committed offset. */
  interface PartitionBuffer {
    topic: string;
    partition: number;
    generation: number;
    /** Each message with its row count (counted once, when it is buffered). */
    entries: Buffered[];
    rows: number;
    /** A flush of it is queued or running (the timer does not queue another). */
    flushing?: Promise<void>;
    /** When its oldest message was buffered (performance.now()). */
    since: number;
    /** When its last insert started (performance.now()); unset before the first. */
    lastInsertAt?: number;
  }
  interface Buffered {
    message: KafkaMessage;
    rows: number;
  }
  const buffers = new Map<string, PartitionBuffer>();

  /**
   * Its oldest row has waited long enough (see InsertPacing): the other partitions whose rows
   * have waited BATCH_MAX_WAIT_MS too set how long. Counting only those keeps a row that
   * happens to arrive beside another, at low rates, to BATCH_MAX_WAIT_MS.
   */
  function due(buf: PartitionBuffer): boolean {
    const now = performance.now();
    let others = 0;
    for (const b of buffers.values())
      if (b !== buf && b.entries.length > 0 && now - b.since >= config.BATCH_MAX_WAIT_MS) others++;
    const at = insertDueAt(
      buf.since,
      pacing.waitMs(others),
      buf.lastInsertAt ?? Number.NEGATIVE_INFINITY,
      config.BATCH_MIN_INTERVAL_MS ?? 0,
    );
    return now >= at;
  }

  /**
   * The next insert of a buffer, if one is due: the recorded range if a member was inserting
   * it when it stopped (exactly that range, once it is all fetched), else up to BATCH_MAX_ROWS
   * rows when that many are buffered or the oldest has waited BATCH_MAX_WAIT_MS.
   */
  async function nextInsert(buf: PartitionBuffer): Promise<{ n: number; redo: BatchIntent | null } | null> {
    const offset = (i: number) => Number(buf.entries[i]?.message.offset);
    if (buf.entries.length === 0) return null;
    const pending = await intentFor(buf.topic, buf.partition);
    if (pending !== null && pending.start === offset(0)) {
      if (offset(buf.entries.length - 1) < pending.end) return null; // the rest of the range is still to come
      let n = 0;
      while (n < buf.entries.length && offset(n) <= pending.end) n++;
      return { n, redo: pending };
    }
    if (buf.rows < maxRows && !due(buf)) return null;
    return { n: cutByRows(buf.entries), redo: null };
  }

  /** Records the intent, inserts, commits: the head of one buffer. False if it was abandoned. */
  async function storeHead(buf: PartitionBuffer, n: number, redo: BatchIntent | null): Promise<boolean> {
    const { topic, partition } = buf;
    const lost = () => buf.generation !== generation || stopping;
    const messages = buf.entries.slice(0, n).map((e) => e.message);
    const first = Number(messages[0]?.offset);
    const last = Number(messages.at(-1)?.offset);
    const rows = toRows(topic, messages);
    const events = rows.find((g) => datasourceOf(g) === DEFAULT_DATASOURCE)?.events.length ?? 0;
    // A recorded range is re-inserted exactly as first attempted, with its recorded skips.
    let skip = redo ? (redo.skip ?? []).filter((k) => k < events) : writer.selectRange(rows);
    if (!fitsKafkaMetadata({ start: first, end: last, skip })) {
      log('warn', 'too many re-sent rows to record in the commit metadata; inserting them unfiltered', {
        topic,
        partition,
        skipped: skip.length,
      });
      skip = [];
    }
    const range = { start: first, end: last, skip };
    if (!redo) await commit(topic, partition, first, range);
    const batchId = batchToken(`${topic}:${partition}`, range);
    const started = performance.now();
    buf.lastInsertAt = started;
    if (!(await insertWithRetry(rows, batchId, skip, lost))) return false;
    const insertMs = performance.now() - started;
    pacing.inserted(insertMs);
    log('debug', 'batch stored', {
      batch: batchId,
      rows: rows.reduce((n, g) => n + g.events.length + g.quarantine.length, 0),
      messages: n,
      insert_ms: Math.round(insertMs),
    });
    if (buf.generation !== generation) return false;
    await commit(topic, partition, last + 1, null);
    for (const e of buf.entries.splice(0, n)) buf.rows -= e.rows;
    buf.since = performance.now();
    return true;
  }

  // One insert at a time: fetch-driven and timer-driven flushes take turns.
  let flushing: Promise<void> = Promise.resolve();
  function flush(buf: PartitionBuffer): Promise<void> {
    if (buf.flushing) return buf.flushing;
    const run = async () => {
      for (;;) {
        if (buf.generation !== generation || stopping) return;
        const next = await nextInsert(buf);
        if (!next || !(await storeHead(buf, next.n, next.redo))) return;
      }
    };
    flushing = flushing
      .then(run, run)
      .catch((err: Error) => {
        // A commit refused during a rebalance: the rows are redelivered to whoever owns them next.
        log('warn', 'kafka loader: batch abandoned', { error: err.message });
      })
      .finally(() => {
        buf.flushing = undefined;
      });
    buf.flushing = flushing;
    return flushing;
  }

  async function handleBatch(
    batch: Batch,
    ctx: { resolveOffset(offset: string): void; heartbeat(): Promise<void> },
  ) {
    heartbeat = ctx.heartbeat;
    const { topic, partition, messages } = batch;
    const key = `${topic}:${partition}`;
    let buf = buffers.get(key);
    if (!buf || buf.generation !== generation) {
      buf = { topic, partition, generation, entries: [], rows: 0, since: performance.now() };
      buffers.set(key, buf);
    }
    const lastBuffered = buf.entries.length > 0 ? Number(buf.entries.at(-1)?.message.offset) : -1;
    for (const message of messages) {
      if (Number(message.offset) <= lastBuffered) continue;
      if (buf.entries.length === 0) buf.since = performance.now();
      const rows = rowCount(message);
      buf.entries.push({ message, rows });
      buf.rows += rows;
    }
    // Resolved means "fetch past it", not "stored": nothing is committed before its insert.
    if (messages.length > 0) ctx.resolveOffset(String(messages.at(-1)?.offset));
    // A full buffer is stored before its partition is fetched further (bounded memory).
    if (buf.rows >= maxRows) await flush(buf);
    await ctx.heartbeat();
  }

  // Quiet partitions: rows that waited long enough go in without waiting for a fetch.
  const timer = setInterval(
    () => {
      for (const buf of buffers.values()) if (buf.entries.length > 0 && due(buf)) void flush(buf);
    },
    Math.max(10, Math.floor(config.BATCH_MAX_WAIT_MS / 4)),
  );
  timer.unref();

  await admin.connect();
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
    eachBatch: ({ batch, resolveOffset, heartbeat }) => handleBatch(batch, { resolveOffset, heartbeat }),
  });

  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        // The insert in hand finishes (a failure now is not retried); what is still
        // buffered stays uncommitted in Kafka, for the next member to store.
        clearInterval(timer);
        stopping = true;
        await flushing;
        await consumer.disconnect();
        await admin.disconnect();
      })();
      return stopped;
    },
    assignment: () => assigned,
  };
}
