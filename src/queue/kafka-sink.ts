import { type Admin, CompressionTypes, type Message, type Producer, type RecordMetadata } from 'kafkajs';
import type { Config } from '../config/index.js';
import { type Log, silentLog } from '../log/index.js';
import type { StoreHealth } from './health.js';
import { createKafka, type KafkaConfig } from './kafka.js';
import { readPartitionLag } from './kafka-lag.js';
import { packedHeaders, packRanges } from './kafka-messages.js';
import { partitionForKey } from './murmur2.js';
import {
  type Acceptance,
  BackpressureError,
  DEFAULT_DATASOURCE,
  datasourceOf,
  type EventSink,
  type IngestRows,
} from './types.js';

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
  /** Rows per packed message at most (default 1000; see kafka-messages.ts). */
  maxRowsPerMessage?: number;
  /** Bytes per packed message at most, before compression (default 512 KiB; brokers refuse > 1 MB). */
  maxBytesPerMessage?: number;
  /**
   * Bytes per produce request at most, before compression (default 900 KiB): a broker refuses
   * a record batch over its message.max.bytes (1 MB by default), and kafkajs puts all of a
   * request's messages for one partition in one record batch. Bounding the uncompressed
   * bytes keeps under it whatever the data's compression ratio.
   */
  maxBytesPerSend?: number;
  /** Bytes sent but not yet acknowledged before checkCapacity refuses (default MAX_PENDING_BYTES). */
  maxInFlightBytes?: number;
  /**
   * Refuse ingest (BackpressureError) while the consumer group is more than this many rows
   * behind on the events topic (default 0: no bound). Kafka deletes data past its retention
   * whether or not it was consumed, so a loader that falls too far behind loses rows
   * (librdkafka's mock broker keeps only ~5 MB per partition). Rows are estimated from the
   * messages behind times this producer's rows per message.
   */
  maxLagRows?: number;
  /** How often the lag is measured when maxLagRows is set (default 500 ms). */
  lagPollMs?: number;
  /** How often `committed` waiters poll the group's committed offsets (default 50 ms). */
  commitPollMs?: number;
  /** Told while Kafka does not acknowledge produces (/v0/ready). */
  health?: StoreHealth;
  /** A produce unacknowledged this long makes /v0/ready say Kafka is not acknowledging (default 5 s). */
  unreadyAfterMs?: number;
}

export type KafkaSinkConfig = KafkaConfig & Pick<Config, 'MAX_PENDING_BYTES'>;

/** How rows are packed by default (see the options above). */
export const PACKING = { maxRowsPerMessage: 1000, maxBytesPerMessage: 512 << 10, maxBytesPerSend: 900 << 10 };

/** One request's progress: its rows may span several messages and sendBatch calls. */
interface Pending {
  remaining: number;
  /** Highest produced offset per "topic\0partition". */
  offsets: Map<string, number>;
  resolve(): void;
  reject(err: Error): void;
  settled: boolean;
}

interface Row {
  topic: string;
  /** The datasource the row is for (a message carries one: its x-datasource header). */
  datasource: string;
  line: string;
  /** The routing key (user_id for feature_events, the request for other datasources); null for quarantined rows. */
  key: string | null;
  owner: Pending;
  /** When append() queued it (performance.now()), for the per-send timings logged at debug. */
  at: number;
}

/** One packed message on its way: the rows it carries, for their owners' bookkeeping. */
interface Outgoing {
  topic: string;
  partition: number;
  datasource: string;
  rows: Row[];
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
 * The api's queue in Kafka mode: rows go to KAFKA_TOPIC (events) and KAFKA_QUARANTINE_TOPIC,
 * acks = all in-sync replicas, packed many to a message (see kafka-messages.ts). An event
 * row goes to the partition its user_id key picks with Kafka's default partitioner (murmur2,
 * the same as kafkajs' and the Java client's), so one user's rows stay in one partition and
 * in order, whether they came packed from us or one per message from another producer.
 * append() resolves once the broker acknowledged every row; `committed` once the consumer
 * group committed past them, which the consumer does only after the rows are in ClickHouse.
 */
export async function createKafkaSink(
  config: KafkaSinkConfig,
  log: Log = silentLog,
  opts: KafkaSinkOptions = {},
): Promise<EventSink> {
  const lingerMs = opts.lingerMs ?? 2;
  const limits = {
    maxRows: opts.maxRowsPerMessage ?? PACKING.maxRowsPerMessage,
    maxBytes: opts.maxBytesPerMessage ?? PACKING.maxBytesPerMessage,
  };
  const maxBytesPerSend = opts.maxBytesPerSend ?? PACKING.maxBytesPerSend;
  const maxInFlightBytes = opts.maxInFlightBytes ?? config.MAX_PENDING_BYTES;
  const compression = opts.compression ?? CompressionTypes.GZIP;
  const idempotent = opts.idempotent ?? true;
  const kafka = createKafka(config, log, '-api');
  const producer: Producer = kafka.producer({
    idempotent,
    allowAutoTopicCreation: false,
    ...(idempotent ? { maxInFlightRequests: 1 } : {}),
  });
  const admin = kafka.admin();
  await producer.connect();
  await admin.connect();
  const partitions = partitionCounts(admin);
  const lag = consumerLag(admin, config, opts.maxLagRows ?? 0, opts.lagPollMs ?? 500, log);

  const queue: Row[] = [];
  let queuedBytes = 0;
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
  let requests = 0;

  function fail(owner: Pending, err: Error) {
    if (owner.settled) return;
    owner.settled = true;
    owner.reject(err);
  }

  /** Every message's offset is its partition's base offset plus its place among that partition's messages. */
  function acknowledged(messages: Outgoing[], results: RecordMetadata[]) {
    const next = new Map<string, number>();
    for (const r of results) next.set(tp(r.topicName, r.partition), Number(r.baseOffset));
    for (const m of messages) {
      const key = tp(m.topic, m.partition);
      const offset = next.get(key);
      if (offset === undefined) {
        const err = new Error(`no acknowledgement for ${m.topic} partition ${m.partition}`);
        for (const row of m.rows) fail(row.owner, err);
        continue;
      }
      next.set(key, offset + 1);
      lag.produced(m.rows.length);
      for (const { owner } of m.rows) {
        if (offset > (owner.offsets.get(key) ?? -1)) owner.offsets.set(key, offset);
        if (--owner.remaining === 0 && !owner.settled) {
          owner.settled = true;
          owner.resolve();
        }
      }
    }
  }

  /** Groups rows by target partition, in order, and packs each group into messages. */
  async function pack(rows: Row[]): Promise<Outgoing[]> {
    const groups = new Map<string, Outgoing>();
    let spread = 0;
    const counts = new Map<string, number>();
    for (const topic of new Set(rows.map((r) => r.topic))) counts.set(topic, await partitions.of(topic));
    for (const row of rows) {
      const count = counts.get(row.topic) as number;
      // Quarantined rows carry no key: spread them over the partitions, batch by batch.
      const partition = row.key === null ? spread++ % count : partitionForKey(row.key, count);
      const key = `${tp(row.topic, partition)}\0${row.datasource}`;
      const group = groups.get(key) ?? { topic: row.topic, partition, datasource: row.datasource, rows: [] };
      groups.set(key, group);
      group.rows.push(row);
    }
    const out: Outgoing[] = [];
    for (const group of groups.values()) {
      for (const [start, end] of packRanges(
        group.rows.map((r) => Buffer.byteLength(r.line)),
        limits,
      ))
        out.push({ ...group, rows: group.rows.slice(start, end) });
    }
    return out;
  }

  function send(rows: Row[]) {
    const bytes = rows.reduce((n, r) => n + r.line.length, 0);
    // Where a request's wait for its 202 goes (debug log): queued behind the linger or other
    // sends, packing, and kafkajs' produce round trip (compress, broker, acknowledgement).
    const t0 = performance.now();
    const queuedMs = t0 - (rows[0] as Row).at;
    const othersInFlight = sending.size;
    let tSend = t0;
    let messages: Outgoing[] = [];
    const p = pack(rows)
      .then((packed) => {
        messages = packed;
        const byTopic = new Map<string, Message[]>();
        for (const m of packed) {
          const list = byTopic.get(m.topic) ?? [];
          list.push({
            partition: m.partition,
            value: m.rows.map((r) => r.line).join('\n'),
            headers: packedHeaders(m.datasource),
          });
          byTopic.set(m.topic, list);
        }
        tSend = performance.now();
        return producer.sendBatch({
          acks: -1,
          compression,
          topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })),
        });
      })
      .then(
        (results) => {
          opts.health?.ok('kafka');
          const acked = performance.now();
          acknowledged(messages, results);
          log('debug', 'kafka rows produced', {
            rows: rows.length,
            messages: messages.length,
            queued_ms: Math.round(queuedMs),
            pack_ms: Math.round(tSend - t0),
            produce_ms: Math.round(acked - tSend),
            other_sends: othersInFlight,
          });
        },
        (err: Error) => {
          log('error', 'kafka produce failed', { error: err.message, rows: rows.length });
          partitions.forget();
          // Probe: the topic's metadata comes back once a broker serves it again.
          opts.health?.fail(
            'kafka',
            `Kafka does not acknowledge produced rows: ${err.message.slice(0, 300)}`,
            async () => {
              await admin.fetchTopicMetadata({ topics: [config.KAFKA_TOPIC] });
            },
          );
          for (const r of rows) fail(r.owner, err);
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
    while (
      queue.length > 0 &&
      sending.size < maxSends &&
      (queuedBytes >= maxBytesPerSend || lingerDue || closed)
    ) {
      send(takeSend());
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

  /** The next produce request's rows: at least one, at most maxBytesPerSend bytes. */
  function takeSend(): Row[] {
    let bytes = 0;
    let n = 0;
    while (n < queue.length && (n === 0 || bytes + (queue[n] as Row).line.length <= maxBytesPerSend))
      bytes += (queue[n++] as Row).line.length;
    queuedBytes -= bytes;
    return queue.splice(0, n);
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
      const datasource = datasourceOf(rows);
      // Another datasource's rows have no user_id: a request's rows share one partition (in
      // order, one insert), and requests spread over the partitions.
      const requestKey = datasource === DEFAULT_DATASOURCE ? undefined : `${datasource}#${requests++}`;
      const at = performance.now();
      for (const line of rows.events) {
        const key = requestKey ?? userIdKey(line) ?? '';
        queue.push({ topic: config.KAFKA_TOPIC, datasource, line, key, owner, at });
        inFlightBytes += line.length;
        queuedBytes += line.length;
      }
      for (const line of rows.quarantine) {
        queue.push({ topic: config.KAFKA_QUARANTINE_TOPIC, datasource, line, key: null, owner, at });
        inFlightBytes += line.length;
        queuedBytes += line.length;
      }
      pump();
      await acked;
      return { committed: waitCommitted(owner.offsets) };
    },

    stats: () => ({ pending_bytes: inFlightBytes }),

    checkCapacity(bytes: number): void {
      lag.check();
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
      lag.stop();
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}

/** The consumer group's lag on the events topic, measured in the background; check() refuses past the bound. */
function consumerLag(admin: Admin, config: KafkaSinkConfig, maxRows: number, pollMs: number, log: Log) {
  let messages = 0;
  let rowsPerMessage = 1;
  let producedMessages = 0;
  let producedRows = 0;
  let timer: NodeJS.Timeout | undefined;
  const measure = async () => {
    try {
      const lag = await readPartitionLag(admin, config.KAFKA_GROUP_ID, [config.KAFKA_TOPIC]);
      messages = lag.reduce((sum, p) => sum + p.lag, 0);
    } catch (err) {
      log('warn', 'measuring the consumer lag failed', { error: (err as Error).message });
    }
    if (maxRows <= 0) return; // stopped
    timer = setTimeout(measure, pollMs);
    timer.unref();
  };
  if (maxRows > 0) void measure();
  return {
    produced(rows: number) {
      producedMessages++;
      producedRows += rows;
      rowsPerMessage = producedRows / producedMessages;
    },
    check() {
      if (maxRows <= 0) return;
      const rows = Math.round(messages * rowsPerMessage);
      if (rows > maxRows)
        throw new BackpressureError(
          `Kafka consumers are about ${rows} rows behind (KAFKA_MAX_LAG_ROWS ${maxRows}); retry shortly`,
          1,
        );
    },
    stop() {
      clearTimeout(timer);
      maxRows = 0;
    },
  };
}

/** Partition counts per topic, asked once and asked again after a failed produce. */
function partitionCounts(admin: Admin) {
  const known = new Map<string, Promise<number>>();
  return {
    of(topic: string): Promise<number> {
      let count = known.get(topic);
      if (!count) {
        count = admin.fetchTopicMetadata({ topics: [topic] }).then(({ topics }) => {
          const n = topics[0]?.partitions.length ?? 0;
          if (n === 0) throw new Error(`Kafka topic ${topic} has no partitions (does it exist?)`);
          return n;
        });
        count.catch(() => known.delete(topic));
        known.set(topic, count);
      }
      return count;
    },
    forget: () => known.clear(),
  };
}
