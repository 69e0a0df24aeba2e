import { CompressionTypes, type Message, Partitioners, type Producer, type RecordMetadata } from 'kafkajs';
import type { Config } from '../config/index.js';
import { type Log, silentLog } from '../log/index.js';
import type { StoreHealth } from './health.js';
import { createKafka, type KafkaConfig } from './kafka.js';
import { type Acceptance, BackpressureError, type EventSink, type IngestRows } from './types.js';

export interface KafkaSinkOptions {
  /**
   * Idempotent producer (default true): a produce retried after a lost acknowledgement is
   * not written twice. The librdkafka mock broker cannot serve it (it names no controller),
   * so the mock-broker tests turn it off.
   */
  idempotent?: boolean;
  /**
   * GZIP by default: event JSON compresses 5-10x, which saves broker disk and network, and
   * kafkajs runs zlib off the event loop. kafkajs ships no other codec built in (Snappy, LZ4
   * and ZSTD need extra native packages), so the choice is GZIP or NONE.
   */
  compression?: CompressionTypes;
  /** Wait this long for concurrent requests to share one produce request (default 2 ms). */
  lingerMs?: number;
  /**
   * Messages per sendBatch (default 5000). kafkajs groups a batch by partition with an
   * array copy per message, which is quadratic: big requests go out in several sends.
   */
  maxBatchMessages?: number;
  /** Bytes sent but not yet acknowledged before checkCapacity refuses (default MAX_PENDING_BYTES). */
  maxInFlightBytes?: number;
  /** How often `committed` waiters poll the group's committed offsets (default 50 ms). */
  commitPollMs?: number;
  /** Told while Kafka does not acknowledge produces (/v0/ready). */
  health?: StoreHealth;
  /** A produce unacknowledged this long makes /v0/ready say Kafka is not acknowledging (default 5 s). */
  unreadyAfterMs?: number;
}

export type KafkaSinkConfig = KafkaConfig & Pick<Config, 'MAX_PENDING_BYTES'>;

/** One request's progress: its rows may span several sendBatch calls. */
interface Pending {
  remaining: number;
  /** Highest produced offset per "topic\0partition". */
  offsets: Map<string, number>;
  resolve(): void;
  reject(err: Error): void;
  settled: boolean;
}

interface Entry {
  topic: string;
  message: Message;
  bytes: number;
  owner: Pending;
}

interface Waiter {
  targets: Map<string, number>;
  resolve(): void;
  reject(err: Error): void;
}

const USER_ID = /"user_id":"((?:[^"\\]|\\.)*)"/;

/**
 * The message key: the row's user_id, so one user's events stay in one partition, in order.
 * The lines come from our own serialiser (compact JSON), so a regex finds the top-level field:
 * inside a nested JSON string every quote is escaped and cannot match. Falls back to a parse.
 */
export function userIdKey(line: string): string | null {
  const m = USER_ID.exec(line);
  if (m?.[1] !== undefined) return m[1].includes('\\') ? (JSON.parse(`"${m[1]}"`) as string) : m[1];
  try {
    const id = (JSON.parse(line) as { user_id?: unknown }).user_id;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

const tp = (topic: string, partition: number) => `${topic}\0${partition}`;

/**
 * The api's queue in Kafka mode: rows go to KAFKA_TOPIC (events, keyed by user_id) and
 * KAFKA_QUARANTINE_TOPIC, acks = all in-sync replicas. append() resolves once the broker
 * acknowledged every row; `committed` once the consumer group committed past them, which
 * the consumer does only after the rows are in ClickHouse.
 */
export async function createKafkaSink(
  config: KafkaSinkConfig,
  log: Log = silentLog,
  opts: KafkaSinkOptions = {},
): Promise<EventSink> {
  const lingerMs = opts.lingerMs ?? 2;
  const maxBatch = opts.maxBatchMessages ?? 5000;
  const maxInFlightBytes = opts.maxInFlightBytes ?? config.MAX_PENDING_BYTES;
  const compression = opts.compression ?? CompressionTypes.GZIP;
  const idempotent = opts.idempotent ?? true;
  const kafka = createKafka(config, log, '-api');

  // The partitioner tells us where each message went; with the per-partition base offsets
  // of the reply that gives every message's offset (kafkajs keeps message order per partition).
  const partitionOf = new WeakMap<Message, number>();
  const createPartitioner = () => {
    const inner = Partitioners.DefaultPartitioner();
    return (args: Parameters<typeof inner>[0]) => {
      const p = inner(args);
      partitionOf.set(args.message, p);
      return p;
    };
  };
  const producer: Producer = kafka.producer({
    idempotent,
    allowAutoTopicCreation: false,
    createPartitioner,
    ...(idempotent ? { maxInFlightRequests: 1 } : {}),
  });
  const admin = kafka.admin();
  await producer.connect();
  await admin.connect();

  const queue: Entry[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inFlightBytes = 0;
  const sending = new Set<Promise<void>>();
  // When each send in flight started: kafkajs retries a produce to a broker that is down
  // for tens of seconds before it fails, and readiness should not wait that long.
  const sendStarted = new Map<Promise<void>, number>();
  const unreadyAfterMs = opts.unreadyAfterMs ?? 5_000;
  opts.health?.watch('kafka-waiting', () => {
    let oldest = Number.POSITIVE_INFINITY;
    for (const t of sendStarted.values()) oldest = Math.min(oldest, t);
    const waited = Date.now() - oldest;
    return waited > unreadyAfterMs
      ? `Kafka has not acknowledged rows produced ${Math.round(waited / 1000)} s ago`
      : undefined;
  });
  let closed = false;

  function fail(owner: Pending, err: Error) {
    if (owner.settled) return;
    owner.settled = true;
    owner.reject(err);
  }

  function acknowledged(entries: Entry[], results: RecordMetadata[]) {
    const next = new Map<string, number>();
    for (const r of results) next.set(tp(r.topicName, r.partition), Number(r.baseOffset));
    for (const e of entries) {
      const key = tp(e.topic, partitionOf.get(e.message) ?? -1);
      const offset = next.get(key);
      if (offset === undefined) {
        fail(e.owner, new Error(`no acknowledgement for ${e.topic} partition ${key.split('\0')[1]}`));
        continue;
      }
      next.set(key, offset + 1);
      if (offset > (e.owner.offsets.get(key) ?? -1)) e.owner.offsets.set(key, offset);
      if (--e.owner.remaining === 0 && !e.owner.settled) {
        e.owner.settled = true;
        e.owner.resolve();
      }
    }
  }

  function send(entries: Entry[]) {
    // Entries grouped by topic, in order: that is the order kafkajs writes them per partition.
    const byTopic = new Map<string, Entry[]>();
    for (const e of entries) {
      const list = byTopic.get(e.topic) ?? [];
      list.push(e);
      byTopic.set(e.topic, list);
    }
    const ordered = [...byTopic.values()].flat();
    const bytes = entries.reduce((n, e) => n + e.bytes, 0);
    const p = producer
      .sendBatch({
        acks: -1,
        compression,
        topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list.map((e) => e.message) })),
      })
      .then(
        (results) => {
          opts.health?.ok('kafka');
          acknowledged(ordered, results);
        },
        (err: Error) => {
          log('error', 'kafka produce failed', { error: err.message, messages: entries.length });
          // Probe: the topic's metadata comes back once a broker serves it again.
          opts.health?.fail(
            'kafka',
            `Kafka does not acknowledge produced rows: ${err.message.slice(0, 300)}`,
            async () => {
              await admin.fetchTopicMetadata({ topics: [config.KAFKA_TOPIC] });
            },
          );
          for (const e of entries) fail(e.owner, err);
        },
      )
      .finally(() => {
        inFlightBytes -= bytes;
        sending.delete(p);
        sendStarted.delete(p);
        pump();
      });
    sending.add(p);
    sendStarted.set(p, Date.now());
  }

  // Sends run at most maxSends at a time; while they run, new requests queue up and go out
  // together in the next send. The idempotent producer needs one at a time: kafkajs assigns
  // sequence numbers when a send starts and rewinds them on failure, which concurrent sends break.
  const maxSends = idempotent ? 1 : 4;
  let lingerDue = false;
  function pump() {
    while (queue.length > 0 && sending.size < maxSends && (queue.length >= maxBatch || lingerDue || closed)) {
      send(queue.splice(0, maxBatch));
    }
    if (queue.length === 0) lingerDue = false;
    else if (!timer && !lingerDue) {
      timer = setTimeout(() => {
        timer = undefined;
        lingerDue = true;
        pump();
      }, lingerMs);
    }
  }

  // One poll of the group's committed offsets serves every waiting request.
  const waiters = new Set<Waiter>();
  let polling = false;
  async function poll() {
    try {
      const topics = [config.KAFKA_TOPIC, config.KAFKA_QUARANTINE_TOPIC];
      const committed = new Map<string, number>();
      for (const t of await admin.fetchOffsets({ groupId: config.KAFKA_GROUP_ID, topics })) {
        for (const p of t.partitions) committed.set(tp(t.topic, p.partition), Number(p.offset));
      }
      for (const w of waiters) {
        // A committed offset is the next one to read: everything below it is in ClickHouse.
        if ([...w.targets].every(([key, offset]) => (committed.get(key) ?? -1) > offset)) {
          waiters.delete(w);
          w.resolve();
        }
      }
    } catch (err) {
      log('warn', 'fetching committed offsets failed', { error: (err as Error).message });
    }
    if (waiters.size > 0 && !closed) setTimeout(poll, opts.commitPollMs ?? 50);
    else polling = false;
  }

  function waitCommitted(targets: Map<string, number>): Promise<void> {
    if (targets.size === 0) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => waiters.add({ targets, resolve, reject }));
    // Nobody awaits `committed` on a wait=false request: never let it become unhandled.
    p.catch(() => {});
    if (!polling) {
      polling = true;
      setTimeout(poll, 0);
    }
    return p;
  }

  return {
    async append(rows: IngestRows): Promise<Acceptance> {
      if (closed) throw new Error('kafka sink is closed');
      const total = rows.events.length + rows.quarantine.length;
      if (total === 0) return { committed: Promise.resolve() };
      let owner!: Pending;
      const acked = new Promise<void>((resolve, reject) => {
        owner = { remaining: total, offsets: new Map(), resolve, reject, settled: false };
      });
      for (const line of rows.events) {
        const message = { key: userIdKey(line), value: line };
        queue.push({ topic: config.KAFKA_TOPIC, message, bytes: line.length, owner });
        inFlightBytes += line.length;
      }
      for (const line of rows.quarantine) {
        queue.push({
          topic: config.KAFKA_QUARANTINE_TOPIC,
          message: { value: line },
          bytes: line.length,
          owner,
        });
        inFlightBytes += line.length;
      }
      pump();
      await acked;
      return { committed: waitCommitted(owner.offsets) };
    },

    checkCapacity(bytes: number): void {
      if (inFlightBytes > 0 && inFlightBytes + bytes > maxInFlightBytes) {
        throw new BackpressureError(
          `${inFlightBytes} bytes are waiting for Kafka to acknowledge them (limit ${maxInFlightBytes})`,
          1,
        );
      }
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      pump();
      while (sending.size > 0) await Promise.allSettled([...sending]);
      for (const w of waiters) w.reject(new Error('kafka sink closed before the rows were committed'));
      waiters.clear();
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}
