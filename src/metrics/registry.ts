import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { PartitionLag } from '../queue/kafka-lag.js';

/** Every metric of the service starts with this (Prometheus: one prefix per application). */
export const PREFIX = 'feature_events_';

// Request and query times: 1 ms (a cached pipe answer) to 30 s (SQL_MAX_EXECUTION_SECONDS).
const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// Batch sizes up to BATCH_MAX_ROWS's range (50k by default) and their bytes (~300 B a row).
const ROWS = [1, 10, 100, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000];
const BYTES = [1 << 10, 16 << 10, 128 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20, 256 << 20];

/**
 * The service's metrics, one prom-client Registry per process (not prom-client's global one,
 * so a test can build as many as it likes). Collected-on-scrape gauges (pending bytes, rows
 * per table, Kafka lag) get their readers later, through the collectors in this folder.
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  const sources: MetricSources = {};
  const eventCounter = (what: string, help: string) =>
    new Counter({
      name: `${PREFIX}events_${what}_total`,
      help,
      labelNames: ['datasource'] as const,
      registers,
    });
  // Gauges read on scrape reset first, so a table or partition that went away disappears.
  const tableGauge = (what: keyof TableStats, help: string, pick: (t: TableStats) => number) =>
    new Gauge({
      name: `${PREFIX}table_${what}`,
      help,
      labelNames: ['table'] as const,
      registers,
      async collect() {
        const stats = (await sources.tables?.()) ?? [];
        this.reset();
        for (const t of stats) this.set({ table: t.table }, pick(t));
      },
    });
  const registers = [registry];
  /** One figure of the ingest admission bound's stats (src/http/ingest-admission.ts), 0 without it. */
  const admissionGauge = (
    name: string,
    help: string,
    key: keyof ReturnType<NonNullable<MetricSources['admission']>>,
  ) =>
    new Gauge({
      name: `${PREFIX}${name}`,
      help,
      registers,
      collect() {
        this.set(sources.admission?.()[key] ?? 0);
      },
    });
  if (options.defaultMetrics ?? true) {
    // Process CPU, memory, handles, GC and the event-loop lag (nodejs_eventloop_lag_*).
    collectDefaultMetrics({ register: registry, prefix: PREFIX });
  }
  return {
    registry,
    /** Where the collected-on-scrape gauges read from; set once what they read exists. */
    sources,
    httpRequests: new Counter({
      name: `${PREFIX}http_requests_total`,
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'Time from the request to its response headers, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: SECONDS,
      registers,
    }),
    eventsReceived: eventCounter(
      'received',
      'Rows read from ingest request bodies (valid or not, stored or refused), by datasource',
    ),
    eventsAccepted: eventCounter(
      'accepted',
      'Valid rows acknowledged to the client (durable in the spool or Kafka), by datasource',
    ),
    eventsQuarantined: eventCounter(
      'quarantined',
      'Invalid rows acknowledged to the client and sent to quarantine, by datasource',
    ),
    eventsRedacted: eventCounter('redacted', 'Rows the PII guard changed before storing them, by datasource'),
    batchRows: new Histogram({
      name: `${PREFIX}batch_rows`,
      help: 'Rows per batch insert (events and quarantine rows together)',
      buckets: ROWS,
      registers,
    }),
    batchBytes: new Histogram({
      name: `${PREFIX}batch_bytes`,
      help: 'Bytes of JSON rows per batch insert',
      buckets: BYTES,
      registers,
    }),
    insertedRows: new Counter({
      name: `${PREFIX}inserted_rows_total`,
      help: 'Rows the loader stored in ClickHouse, by table',
      labelNames: ['table'] as const,
      registers,
    }),
    duplicateRows: new Counter({
      name: `${PREFIX}duplicate_rows_total`,
      help: 'Rows the loader dropped because their event_id was stored recently (client re-sends)',
      registers,
    }),
    insertDuration: new Histogram({
      name: `${PREFIX}insert_duration_seconds`,
      help: 'Time of one batch insert attempt (both tables, poison split included), by result',
      labelNames: ['result'] as const,
      buckets: SECONDS,
      registers,
    }),
    insertFailures: new Counter({
      name: `${PREFIX}insert_failures_total`,
      help: 'Batch insert attempts that failed (ClickHouse unreachable, disk full, ...)',
      registers,
    }),
    insertRetries: new Counter({
      name: `${PREFIX}insert_retries_total`,
      help: 'Batch inserts scheduled again after a failure',
      registers,
    }),
    pendingBytes: new Gauge({
      name: `${PREFIX}queue_pending_bytes`,
      help: 'Bytes accepted and not yet stored: in the spool (embedded) or sent to Kafka and unacknowledged',
      labelNames: ['queue'] as const,
      registers,
      collect() {
        const p = sources.pending?.();
        this.reset();
        if (p) this.set({ queue: p.queue }, p.bytes);
      },
    }),
    maxPendingBytes: new Gauge({
      name: `${PREFIX}queue_max_pending_bytes`,
      help: 'MAX_PENDING_BYTES: at queue_pending_bytes past this, ingest answers 503',
      labelNames: ['queue'] as const,
      registers,
      collect() {
        const p = sources.pending?.();
        this.reset();
        if (p) this.set({ queue: p.queue }, p.max);
      },
    }),
    ingestInflightBytes: admissionGauge(
      'ingest_inflight_bytes',
      'Bytes of ingest bodies being read and parsed now (bound: INGEST_MAX_INFLIGHT_BYTES)',
      'inflight_bytes',
    ),
    ingestInflightPeakBytes: admissionGauge(
      'ingest_inflight_peak_bytes',
      'The most bytes of ingest bodies ever read and parsed at once since start',
      'peak_bytes',
    ),
    ingestWaiting: admissionGauge(
      'ingest_admission_waiting',
      'Ingest requests waiting for room under INGEST_MAX_INFLIGHT_BYTES',
      'waiting',
    ),
    kafkaLag: new Gauge({
      name: `${PREFIX}kafka_consumer_lag_messages`,
      help: 'Messages of a partition not yet committed by the consumer group (not yet in ClickHouse)',
      labelNames: ['topic', 'partition'] as const,
      registers,
      async collect() {
        const lags = (await sources.kafkaLag?.()) ?? [];
        this.reset();
        for (const l of lags) this.set({ topic: l.topic, partition: String(l.partition) }, l.lag);
      },
    }),
    pipeRequests: new Counter({
      name: `${PREFIX}pipe_requests_total`,
      help: 'Pipe requests, by pipe, status and result cache outcome (hit, miss, bypass)',
      labelNames: ['pipe', 'status', 'cache'] as const,
      registers,
    }),
    pipeBatches: new Counter({
      name: `${PREFIX}pipe_coalesced_batches_total`,
      help: 'Queries that answered several point lookups of a pipe at once (tag coalesce), by pipe',
      labelNames: ['pipe'] as const,
      registers,
    }),
    pipeCoalesced: new Counter({
      name: `${PREFIX}pipe_coalesced_requests_total`,
      help: 'Pipe requests answered by such a shared query instead of one of their own, by pipe',
      labelNames: ['pipe'] as const,
      registers,
    }),
    pipeDuration: new Histogram({
      name: `${PREFIX}pipe_duration_seconds`,
      help: 'Time to answer a pipe request, by pipe and result cache outcome',
      labelNames: ['pipe', 'cache'] as const,
      buckets: SECONDS,
      registers,
    }),
    tableRows: tableGauge(
      'rows',
      'Rows in the active parts of each table (system.parts, read at most every METRICS_CACHE_SECONDS)',
      (t) => t.rows,
    ),
    tableBytes: tableGauge('bytes', 'Bytes on disk of the active parts of each table', (t) => t.bytes),
    tableParts: tableGauge(
      'parts',
      'Active parts of each table (many small parts: inserts too small, or merges behind)',
      (t) => t.parts,
    ),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

export interface TableStats {
  table: string;
  rows: number;
  bytes: number;
  parts: number;
}

/** What the scrape-time gauges read; each is optional (a process without Kafka has no lag). */
export interface MetricSources {
  /** Bytes accepted and not yet stored, and the limit, of this process's queue. */
  pending?: () => { queue: 'spool' | 'kafka'; bytes: number; max: number } | undefined;
  /** Active parts per table (cached: see cached-source.ts). */
  tables?: () => Promise<TableStats[]>;
  /** The consumer group's lag per partition (cached). */
  kafkaLag?: () => Promise<PartitionLag[]>;
  /** Ingest bodies read and parsed at once (src/http/ingest-admission.ts). */
  admission?: () => { inflight_bytes: number; peak_bytes: number; waiting: number };
}
