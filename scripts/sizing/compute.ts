/**
 * The sizing table of docs/scaling.md, computed from the bench's measured figures
 * (bench/results/latest.json) so the document cannot drift from them: test/sizing.test.ts
 * checks that the block in the document is this function's output for the committed figures.
 *
 * Only measured inputs and the assumptions named in ASSUMPTIONS go in; every derived figure
 * is printed with its arithmetic.
 */
export interface BenchFigures {
  ingest_ndjson_eps_embedded: number;
  ingest_single_eps: number;
  bytes_per_event: number;
  analytics: Record<string, { uncached_p50_ms: number; kind: string }>;
  pipe_rps_32: Record<string, number>;
  pipe_cache_hit_ratio_32: Record<string, number>;
  events_in_store: number;
  details: {
    generated_at: string;
    machine: { cpus: number };
    ingest: { bulk_load_eps: number };
    raw_clickhouse: { with_views: { eps: number } };
    pipes_by_size: Record<string, Record<string, { serial: { p50: number } }>>;
  };
}

export const ASSUMPTIONS = {
  /** Busiest second against the day's average (product usage follows office hours). */
  peakFactor: 4,
  /** Keep every role below this share of its cores at peak. */
  targetUtilisation: 0.6,
  /** Copies of each row on the cluster profile (2 replicas per shard). */
  replicas: 2,
  /** How long the raw events are kept (no TTL is set by the migrations today). */
  retentionDays: 365,
  /** Days the bench's generated events span (scripts/generate-events.ts default). */
  benchSpanDays: 90,
  /** The dashboard's default window. */
  windowDays: 30,
  /** Partitions cap how many consumers work at once; adding some later moves users' keys. */
  minPartitions: 12,
};

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ceil = Math.ceil;

export function sizing(b: BenchFigures, a = ASSUMPTIONS): string {
  const cpus = b.details.machine.cpus;
  // Per-event CPU cost, in microseconds of one core.
  const usTotal = (cpus * 1e6) / b.ingest_ndjson_eps_embedded;
  const usClickhouse = (cpus * 1e6) / b.details.raw_clickhouse.with_views.eps;
  const usApp = usTotal - usClickhouse;
  const usRequest = (cpus * 1e6) / b.ingest_single_eps;
  const perCoreApp = 1e6 / usApp;
  const perCoreCh = 1e6 / usClickhouse;
  const perStream = b.details.ingest.bulk_load_eps;

  const userPipe = 'user_feature_usage';
  const userRps = b.pipe_rps_32[userPipe]! * (1 - b.pipe_cache_hit_ratio_32[userPipe]!);
  const userPerCore = userRps / cpus;
  const atLargest =
    b.details.pipes_by_size[String(Math.max(...Object.keys(b.details.pipes_by_size).map(Number)))]!;
  const summaryMs = atLargest.feature_usage_summary!.serial.p50;
  const scanMs = b.analytics.top_features!.uncached_p50_ms;
  const eventsInWindow = (b.events_in_store * a.windowDays) / a.benchSpanDays;
  // A window aggregation over raw events: both cores busy for its p50, per million events it reads.
  const scanCoreMsPerM = (scanMs * cpus) / (eventsInWindow / 1e6);

  const lines: string[] = [];
  const p = (s = '') => lines.push(s);
  p(
    `Inputs: \`bench/results/latest.json\` of ${b.details.generated_at.slice(0, 10)}, measured on ${cpus} cores.`,
  );
  p();
  p('| measured | figure | per core |');
  p('|---|---:|---|');
  p(
    `| NDJSON ingest, whole service, 1k-row batches | ${fmt(b.ingest_ndjson_eps_embedded)} ev/s | ${cpus} × 10⁶ / ${fmt(b.ingest_ndjson_eps_embedded)} = **${fmt(usTotal, 1)} µs per event** |`,
  );
  p(
    `| the same rows inserted by ClickHouse alone, with the rollup views | ${fmt(b.details.raw_clickhouse.with_views.eps)} ev/s | ${cpus} × 10⁶ / ${fmt(b.details.raw_clickhouse.with_views.eps)} = **${fmt(usClickhouse, 1)} µs** (ClickHouse's share) |`,
  );
  p(
    `| so the service's own share (HTTP, validation, queue, batching) | | ${fmt(usTotal, 1)} − ${fmt(usClickhouse, 1)} = **${fmt(usApp, 1)} µs** → ${fmt(perCoreApp)} ev/s per core |`,
  );
  p(`| ClickHouse insert work | | 10⁶ / ${fmt(usClickhouse, 1)} = **${fmt(perCoreCh)} ev/s per core** |`);
  p(
    `| single-event requests (64 clients) | ${fmt(b.ingest_single_eps)} req/s | ${cpus} × 10⁶ / ${fmt(b.ingest_single_eps)} = **${fmt(usRequest)} µs per request** |`,
  );
  p(
    `| one insert stream, 25k-row batches (what one consumer on one partition does) | ${fmt(perStream)} ev/s | one stream: **${fmt(perStream)} ev/s per partition** |`,
  );
  p(
    `| per-user lookup (\`${userPipe}\`), 32 clients, uncached share | ${fmt(b.pipe_rps_32[userPipe]!)} req/s × (1 − ${b.pipe_cache_hit_ratio_32[userPipe]}) = ${fmt(userRps, 1)} q/s | / ${cpus} = **${fmt(userPerCore, 1)} q/s per core** |`,
  );
  p(
    `| rollup summary (\`feature_usage_summary\`), 1 client, uncached p50 at ${fmt(b.events_in_store / 1e6, 0)}M | ${fmt(summaryMs, 1)} ms | 1000 / (${fmt(summaryMs, 1)} × ${cpus}) = **${fmt(1000 / (summaryMs * cpus), 1)} q/s per core** |`,
  );
  p(
    `| raw-event window aggregation (\`top_features\`), uncached p50, ${fmt(eventsInWindow / 1e6, 2)}M events in its ${a.windowDays}-day window | ${fmt(scanMs, 1)} ms | ${fmt(scanMs, 1)} × ${cpus} / ${fmt(eventsInWindow / 1e6, 2)} = **${fmt(scanCoreMsPerM, 0)} core-ms per million events read** |`,
  );
  p();
  p(
    `Assumptions (not measured): peak second = ${a.peakFactor}× the day's average; roles sized to run at ${a.targetUtilisation * 100}% of their cores at peak; ${a.replicas} replicas; raw events kept ${a.retentionDays} days; the bench's events span ${a.benchSpanDays} days.`,
  );
  p();
  p('| | 100M events/day | 1B events/day |');
  p('|---|---:|---:|');
  const days = [1e8, 1e9];
  const row = (label: string, f: (perDay: number) => string) =>
    p(`| ${label} | ${days.map(f).join(' | ')} |`);
  const avg = (d: number) => d / 86_400;
  const peak = (d: number) => avg(d) * a.peakFactor;
  row('average events/s (÷ 86,400)', (d) => fmt(avg(d)));
  row(`peak events/s (× ${a.peakFactor})`, (d) => fmt(peak(d)));
  row(
    `api + consumer cores (peak × ${fmt(usApp, 1)} µs / ${a.targetUtilisation})`,
    (d) =>
      `${fmt((peak(d) * usApp) / 1e6 / a.targetUtilisation, 1)} → **${ceil((peak(d) * usApp) / 1e6 / a.targetUtilisation)}**`,
  );
  row(
    `ClickHouse insert cores, summed over shards (peak × ${fmt(usClickhouse, 1)} µs / ${a.targetUtilisation})`,
    (d) =>
      `${fmt((peak(d) * usClickhouse) / 1e6 / a.targetUtilisation, 1)} → **${ceil((peak(d) * usClickhouse) / 1e6 / a.targetUtilisation)}**`,
  );
  row(
    `Kafka partitions (peak / ${fmt(perStream)} / ${a.targetUtilisation}, at least ${a.minPartitions})`,
    (d) =>
      `${fmt(peak(d) / perStream / a.targetUtilisation, 2)} → **${Math.max(a.minPartitions, ceil(peak(d) / perStream / a.targetUtilisation))}**`,
  );
  row(
    `api cores if clients send one event per request (peak × ${fmt(usRequest)} µs / ${a.targetUtilisation})`,
    (d) => fmt((peak(d) * usRequest) / 1e6 / a.targetUtilisation, 0),
  );
  row(
    `disk per day, one copy (× ${b.bytes_per_event} bytes)`,
    (d) => `${fmt((d * b.bytes_per_event) / 1e9, 1)} GB`,
  );
  row(
    `disk for ${a.retentionDays} days × ${a.replicas} replicas`,
    (d) => `**${fmt((d * b.bytes_per_event * a.retentionDays * a.replicas) / 1e12, 1)} TB**`,
  );
  row(`events in a ${a.windowDays}-day window`, (d) => `${fmt((d * a.windowDays) / 1e9, 0)}B`);
  row(
    `one raw-event ${a.windowDays}-day aggregation, uncached (× ${fmt(scanCoreMsPerM, 0)} core-ms per million)`,
    (d) => `${fmt((((d * a.windowDays) / 1e6) * scanCoreMsPerM) / 1000, 0)} core-s`,
  );
  row(`per-user lookups: cores per 100 q/s (100 / ${fmt(userPerCore, 1)})`, () => fmt(100 / userPerCore, 1));
  return lines.join('\n');
}

export const START =
  '<!-- sizing:start (generated by `npm run sizing -- --write` from bench/results/latest.json) -->';
export const END = '<!-- sizing:end -->';

/** The document with its sizing block replaced by `table`. */
export function withSizing(doc: string, table: string): string {
  const from = doc.indexOf(START);
  const to = doc.indexOf(END);
  if (from < 0 || to < from) throw new Error(`docs/scaling.md has no ${START} … ${END} block`);
  return `${doc.slice(0, from + START.length)}\n${table}\n${doc.slice(to)}`;
}
