/**
 * The Kafka stage: NDJSON ingest through the service in Kafka mode (librdkafka's mock
 * broker), beside kafkajs alone on the same broker in the same run — the same rows, packed
 * the same way, produced (gzip, acks=all) and consumed (eachBatch) with nothing else. The
 * ratio says how much of the broker-and-client ceiling the service keeps, on a machine whose
 * absolute speed drifts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { useFastGzip } from '../../src/queue/kafka-gzip.js';
import { PACKED_HEADERS, packRanges, rowCount } from '../../src/queue/kafka-messages.js';
import { PACKING } from '../../src/queue/kafka-sink.js';
import { progress } from '../generate-events.js';
import { freshness, ingestBatches } from './ingest.js';
import { cpuSeconds, log, ownCpuSeconds, peakRssMb, sleep, startMockKafka, startService } from './lib.js';

export interface KafkaStage {
  /** Our service: events/s from the first POST until every row is queryable. */
  ingest_eps: number;
  freshness?: { p50: number; p95: number; n: number };
  rss_peak_mb?: number;
  /** kafkajs alone, same broker, same rows and packing: how fast the rows were produced... */
  kafkajs_produce_eps: number;
  /** ...and all consumed, by a consumer reading while they were produced: the ceiling a loader without work of its own would reach. */
  kafkajs_eps: number;
  ratio_vs_kafkajs: number;
}

export interface KafkaStageDeps {
  rows: number;
  /** The rows as 1,000-row NDJSON bodies (the same the embedded stage posts). */
  batches: Buffer[];
  freshnessSamples: number;
  tmp: (prefix: string) => string;
  /** Told the service's log once it stopped. */
  onServiceOutput?: (text: string) => void;
  /** Extra environment for the service (e.g. LOG_LEVEL). */
  serviceEnv?: Record<string, string>;
  /** Extra node arguments for the service (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** The checkout whose service runs (default this one; kafka-only.ts --root runs an older one). */
  root?: string;
  /** Logs the service's CPU during the ingest by thread name (kafka-only.ts --threads). */
  threads?: boolean;
  cleanups: Array<() => Promise<void>>;
}

/**
 * Partitions of every topic in this stage. librdkafka's mock broker keeps only the newest
 * ~5 MB of (compressed) data per partition and drops the rest: a consumer further behind
 * than that never sees those rows (measured: 1M rows produced first, then consumed, gave
 * 644,000 rows, the first 119 messages of each partition gone). 12 partitions (the cluster
 * compose file's count) hold ~1.5M rows of lag; the earlier 3 held ~375k, which is why the
 * Kafka stage of earlier full runs never drained 1M.
 */
export const PARTITIONS = 12;

export async function measureKafka(deps: KafkaStageDeps): Promise<KafkaStage> {
  log('Kafka mode: starting the mock broker');
  const kafka = await startMockKafka({ partitions: PARTITIONS, topics: [] });
  deps.cleanups.push(() => kafka.stop());
  try {
    const { batches } = deps;
    const { cpu: _cpu, ...alone } = await kafkajsAlone(kafka, batches, deps.rows);
    await kafka.inject(`topic feature_events ${PARTITIONS}`);
    await kafka.inject(`topic feature_events_quarantine ${PARTITIONS}`);
    log('Kafka mode: the service');
    const svc = await startService(
      deps.tmp('fe-bench-kafka-'),
      {
        KAFKA_BROKERS: kafka.brokers,
        KAFKA_IDEMPOTENT: 'false',
        KAFKA_SESSION_TIMEOUT_MS: '6000',
        // Well inside what the mock keeps (see PARTITIONS): past it the api answers 503 and
        // the bench client retries, so no row is dropped before the loader reads it.
        KAFKA_MAX_LAG_ROWS: '400000',
        ...deps.serviceEnv,
      },
      deps.nodeArgs,
      deps.root,
    );
    deps.cleanups.push(() => svc.stop());
    const [svcCpu0, brokerCpu0] = [cpuSeconds(svc.proc.pid), cpuSeconds(kafka.pid)];
    const threads0 = deps.threads ? threadCpu(svc.proc.pid) : undefined;
    const ingest = await ingestBatches(svc, 'NDJSON x1000 kafka', batches, deps.rows);
    if (threads0) logThreadCpu(threads0, threadCpu(svc.proc.pid), deps.rows);
    // On a shared 2-core machine events/s follow the CPU share we get; CPU per row does not.
    const svcCpu = cpuSeconds(svc.proc.pid) - svcCpu0;
    const brokerCpu = cpuSeconds(kafka.pid) - brokerCpu0;
    log(
      `Kafka: CPU during the ingest: service ${svcCpu.toFixed(1)} s (${Math.round((svcCpu / deps.rows) * 1e6)} µs/row), mock broker ${brokerCpu.toFixed(1)} s`,
    );
    const fresh = await freshness(svc, deps.freshnessSamples, 'kafka');
    const rss = peakRssMb(svc.proc.pid);
    await svc.stop();
    deps.onServiceOutput?.(svc.output());
    const result = {
      ingest_eps: ingest,
      freshness: fresh,
      rss_peak_mb: rss,
      ...alone,
      ratio_vs_kafkajs: Math.round((ingest / alone.kafkajs_eps) * 100) / 100,
    };
    log(
      `Kafka: service ${ingest.toLocaleString('en')} events/s until queryable; kafkajs alone ${alone.kafkajs_eps.toLocaleString('en')} rows/s produced and consumed (produce alone ${alone.kafkajs_produce_eps.toLocaleString('en')}); ratio ${result.ratio_vs_kafkajs}`,
    );
    return result;
  } finally {
    await kafka.stop();
  }
}

/** CPU seconds per thread name (/proc/<pid>/task/<tid>/stat), summed over threads of one name. */
function threadCpu(pid: number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (!pid) return out;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The main thread is the one whose id is the process's: the JavaScript event loop.
      const name =
        tid === String(pid) ? 'main (JS)' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** The ingest's CPU by thread name, biggest first, in µs per row (threads that ended are not counted). */
function logThreadCpu(before: Map<string, number>, after: Map<string, number>, rows: number) {
  const used = [...after].map(([name, s]) => [name, s - (before.get(name) ?? 0)] as const);
  used.sort((a, b) => b[1] - a[1]);
  const shown = used.filter(([, s]) => s >= 0.05).map(([n, s]) => `${n} ${Math.round((s / rows) * 1e6)}`);
  log(`Kafka: service CPU by thread during the ingest, µs/row: ${shown.join(', ')}`);
}

/**
 * kafkajs with nothing else: the rows packed as our producer packs them, produced while a
 * consumer reads them (as the service does; see PARTITIONS for why not one after the other).
 * kafkajs_eps is rows over the time from the first produce to the last row consumed; cpu is
 * what that span cost this process (kafkajs) and the broker, in CPU seconds.
 */
export async function kafkajsAlone(
  mock: { brokers: string; pid: number | undefined; inject(cmd: string): Promise<void> },
  batches: Buffer[],
  rows: number,
) {
  const topic = 'kafkajs_alone';
  // The codec our producer uses (gzip level 1), so the ceiling compresses as the service does.
  useFastGzip();
  await mock.inject(`topic ${topic} ${PARTITIONS}`);
  const client = new Kafka({
    clientId: 'bench-alone',
    brokers: mock.brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const lines: string[] = [];
  for (const b of batches) for (const l of b.toString('utf8').split('\n')) if (l) lines.push(l);
  const consumer = client.consumer({ groupId: 'bench-alone', maxWaitTimeInMs: 20 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) seen += rowCount(m);
    },
  });
  while (!joined) await sleep(20);
  const producer = client.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const bar = progress('kafkajs alone: produce and consume', rows);
  const t0 = performance.now();
  const [client0, broker0] = [ownCpuSeconds(), cpuSeconds(mock.pid)];
  const sends = new Set<Promise<unknown>>();
  // The same packing as our producer: messages by packRanges, requests up to maxBytesPerSend.
  const ranges = packRanges(
    lines.map((l) => Buffer.byteLength(l)),
    { maxRows: PACKING.maxRowsPerMessage, maxBytes: PACKING.maxBytesPerMessage },
  );
  for (let r = 0; r < ranges.length; ) {
    const messages = [];
    let bytes = 0;
    for (; r < ranges.length && (messages.length === 0 || bytes < PACKING.maxBytesPerSend); r++) {
      const [start, stop] = ranges[r] as [number, number];
      const value = lines.slice(start, stop).join('\n');
      if (messages.length > 0 && bytes + value.length > PACKING.maxBytesPerSend) break;
      bytes += value.length;
      messages.push({ partition: r % PARTITIONS, value, headers: PACKED_HEADERS });
    }
    const send: Promise<unknown> = producer
      .sendBatch({ acks: -1, compression: CompressionTypes.GZIP, topicMessages: [{ topic, messages }] })
      .finally(() => sends.delete(send));
    sends.add(send);
    // As many in flight as our producer allows itself (4, without idempotence).
    if (sends.size >= 4) await Promise.race(sends);
    bar.tick(seen);
  }
  await Promise.all(sends);
  const produced = performance.now();
  await producer.disconnect();
  // A stall is reported, not waited out: no new row for 60 s ends the stage with an error.
  for (let last = seen, since = Date.now(); seen < rows; await sleep(5)) {
    bar.tick(seen);
    if (seen !== last) [last, since] = [seen, Date.now()];
    else if (Date.now() - since > 60_000) {
      await consumer.disconnect();
      throw new Error(
        `kafkajs alone stalled: ${seen.toLocaleString('en')} of ${rows.toLocaleString('en')} rows consumed, none for 60 s`,
      );
    }
  }
  const consumed = performance.now();
  const cpu = { client_s: ownCpuSeconds() - client0, broker_s: cpuSeconds(mock.pid) - broker0 };
  bar.done();
  await consumer.disconnect();
  const rate = (ms: number) => Math.round(rows / (ms / 1000));
  return { kafkajs_produce_eps: rate(produced - t0), kafkajs_eps: rate(consumed - t0), cpu };
}
