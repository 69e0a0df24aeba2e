import type { Admin, Batch, Consumer, KafkaMessage } from 'kafkajs';
import type { Store } from '../clickhouse/store.js';
import type { Config } from '../config/index.js';
import { retry, STOPPED, sleep } from '../lib/retry.js';
import { type Log, silentLog } from '../log/index.js';
import type { StoreHealth } from '../queue/health.js';
import { createKafka, type KafkaConfig } from '../queue/kafka.js';
import { rowCount, rowsOfMessage } from '../queue/kafka-messages.js';
import type { IngestRows } from '../queue/types.js';
import {
  type BatchIntent,
  batchToken,
  fitsKafkaMetadata,
  intentFromKafkaMetadata,
  intentToKafkaMetadata,
} from './batch-intent.js';
import { BatchWriter } from './batch-writer.js';

export type KafkaLoaderConfig = KafkaConfig & Pick<Config, 'BATCH_MAX_ROWS' | 'BATCH_MAX_WAIT_MS'>;

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
}

export interface KafkaLoaderHandle {
  /** Leaves the group after the batch in hand is stored (or abandoned, uncommitted). */
  stop(): Promise<void>;
  /** The partitions this member owns since the last rebalance, by topic. */
  assignment(): Record<string, number[]>;
}

/**
 * The consumer role in Kafka mode: a consumer group over KAFKA_TOPIC and
 * KAFKA_QUARANTINE_TOPIC that turns each fetched batch into inserts of at most
 * BATCH_MAX_ROWS rows (a message may carry many rows, see queue/kafka-messages.ts; a batch
 * is cut between messages) and commits a partition's offset only after its rows are in
 * ClickHouse. A failed insert is retried with backoff, never skipped.
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

  const writer = new BatchWriter(store, { dedupWindow: opts.dedupWindow ?? 0, log });
  await writer.warm();

  const kafka = createKafka(config, log, '-consumer');
  const admin: Admin = kafka.admin();
  const consumer: Consumer = kafka.consumer({
    groupId: config.KAFKA_GROUP_ID,
    sessionTimeout: opts.sessionTimeout ?? 30_000,
    heartbeatInterval: Math.min(3_000, Math.floor((opts.sessionTimeout ?? 30_000) / 3)),
    // Large but time-bounded fetches: the broker answers when minBytes are there or after
    // BATCH_MAX_WAIT_MS, so a quiet topic still lands within that bound.
    minBytes: 1 << 20,
    maxWaitTimeInMs: config.BATCH_MAX_WAIT_MS,
    maxBytesPerPartition,
    maxBytes: Math.max(maxBytesPerPartition, 10 << 20),
    allowAutoTopicCreation: false,
  });

  // Intents known for this generation, "topic:partition" -> intent (null: none pending).
  const intents = new Map<string, BatchIntent | null>();
  let assigned: Record<string, number[]> = {};
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    intents.clear(); // another member may have left intents on partitions we now own
    assigned = e.payload.memberAssignment;
    log('info', 'kafka consumer joined group', { assignment: assigned, groupId: e.payload.groupId });
  });
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

  function toRows(topic: string, messages: KafkaMessage[]): IngestRows {
    const lines: string[] = [];
    for (const m of messages) for (const row of rowsOfMessage(m)) lines.push(row);
    return topic === config.KAFKA_TOPIC
      ? { events: lines, quarantine: [] }
      : { events: [], quarantine: lines };
  }

  /** Messages from i on whose rows make one insert: up to maxRows rows, at least one message. */
  function cutByRows(messages: KafkaMessage[], i: number): number {
    let rows = 0;
    let j = i;
    while (j < messages.length && (j === i || rows + rowCount(messages[j] as KafkaMessage) <= maxRows)) {
      rows += rowCount(messages[j] as KafkaMessage);
      j++;
    }
    return j;
  }

  /** Inserts until it succeeds; false if the partition was lost or the consumer stops first. */
  async function insertWithRetry(
    rows: IngestRows,
    batchId: string,
    ctx: { heartbeat(): Promise<void>; isRunning(): boolean; isStale(): boolean },
    skip: readonly number[],
  ): Promise<boolean> {
    const lost = () => !ctx.isRunning() || ctx.isStale();
    const done = await retry(
      async (attempt) => {
        // Transient errors throw and are retried here; poison rows go to quarantine inside.
        await writer.write(rows, batchId, skip);
        opts.health?.ok('inserts');
        if (attempt > 1) log('info', 'insert succeeded after retries', { batchId, attempts: attempt });
      },
      {
        minMs: retryMinMs,
        maxMs: retryMaxMs,
        stop: lost,
        onError: (err, attempt, delay) => {
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
            await ctx.heartbeat().catch(() => {});
          }
        },
      },
    );
    return done !== STOPPED;
  }

  async function handleBatch(
    batch: Batch,
    ctx: {
      resolveOffset(offset: string): void;
      heartbeat(): Promise<void>;
      isRunning(): boolean;
      isStale(): boolean;
    },
  ) {
    const { topic, partition, messages } = batch;
    let i = 0;
    while (i < messages.length) {
      if (!ctx.isRunning() || ctx.isStale()) return;
      const first = Number(messages[i]?.offset);
      const pending = await intentFor(topic, partition);
      const redo = pending !== null && pending.start === first;
      let j = i;
      if (redo) while (j < messages.length && Number(messages[j]?.offset) <= pending.end) j++;
      else j = cutByRows(messages, i);
      const last = Number(messages[j - 1]?.offset);
      if (redo && last < pending.end) {
        log('warn', 'fetched batch ends before the recorded range; duplicates possible', {
          topic,
          partition,
          recorded: pending,
          fetchedUpTo: last,
        });
      }
      const rows = toRows(topic, messages.slice(i, j));
      // A recorded range is re-inserted exactly as first attempted, with its recorded skips.
      let skip = redo ? (pending.skip ?? []).filter((k) => k < rows.events.length) : writer.select(rows);
      if (!fitsKafkaMetadata({ start: first, end: last, skip })) {
        log('warn', 'too many re-sent rows to record in the commit metadata; inserting them unfiltered', {
          topic,
          partition,
          skipped: skip.length,
        });
        skip = [];
      }
      const range = { start: first, end: last, skip };
      if (!redo || last !== pending.end) await commit(topic, partition, first, range);
      const batchId = batchToken(`${topic}:${partition}`, range);
      if (!(await insertWithRetry(rows, batchId, ctx, skip))) return;
      ctx.resolveOffset(String(last));
      await commit(topic, partition, last + 1, null);
      await ctx.heartbeat();
      i = j;
    }
  }

  await admin.connect();
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
    eachBatch: ({ batch, resolveOffset, heartbeat, isRunning, isStale }) =>
      handleBatch(batch, { resolveOffset, heartbeat, isRunning, isStale }),
  });

  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        await consumer.disconnect();
        await admin.disconnect();
      })();
      return stopped;
    },
    assignment: () => assigned,
  };
}
