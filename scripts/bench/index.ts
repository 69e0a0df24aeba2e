/**
 * npm run bench [-- --quick]
 *
 * Measures, in one run on this machine: HTTP ingest (NDJSON batches and single events,
 * embedded and Kafka mode), freshness, pipe latency and throughput, bytes per event, peak
 * RSS; the same data and questions on PostgreSQL; the raw chDB insert rate (the ceiling).
 * Writes bench/results/latest.{json,md,svg}. Progress goes to stderr, the table to stdout.
 * All traffic stays on 127.0.0.1; every loop is bounded by a count and a time.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ANALYTICS_BUDGETS, ANALYTICS_PIPES } from './analytics.js';
import { measureEmbedded } from './embedded.js';
import type { FloorRun } from './floor.js';
import { BATCH_CONCURRENCY, BATCH_ROWS, makeBatches, resets, SINGLE_CONCURRENCY } from './ingest.js';
import { type KafkaStage, measureKafka } from './kafka.js';
import { log, ROOT, round2 } from './lib.js';
import { ALL_PIPES, type AnyPipe } from './params.js';
import { measurePostgres, type PgBaseline } from './pg-baseline.js';
import type { PipeRun } from './pipes.js';
import { makePlan } from './plan.js';
import { measureRawClickHouse } from './raw-clickhouse.js';
import { type Result, renderMarkdown, renderSvg, renderTable } from './report.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'skip-pg': { type: 'boolean', default: false },
    'skip-kafka': { type: 'boolean', default: false },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
  },
});
const plan = makePlan(args.quick);
const P = plan.sizes;

const tempDirs: string[] = [];
const cleanups: Array<() => Promise<void>> = [];
const serviceOutputs: Array<() => string> = [];
const tmp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
};

// ---- the run ----

async function main() {
  const started = Date.now();
  const { mode } = plan;
  log(
    `mode ${mode}: sizes ${P.stages.map((s) => s.toLocaleString('en')).join(', ')} events, ${P.users.toLocaleString('en')} users`,
  );
  const details: Record<string, unknown> = { mode, stages: P.stages, params: P };

  // 1. Embedded mode: ingest, freshness, pipes at each size, storage, RSS (embedded.ts).
  const emb = await measureEmbedded({ plan, tmp, cleanups, serviceOutputs });
  details.rss_now_mb = emb.rss_now_mb;

  // 2. Kafka mode (librdkafka's mock broker), beside kafkajs alone on the same broker.
  let kafkaStage: KafkaStage | undefined;
  if (args['skip-kafka']) log('Kafka mode skipped (--skip-kafka)');
  else {
    try {
      kafkaStage = await measureKafka({
        rows: P.kafkaRows,
        batches: makeBatches(plan.stageGen(0), P.kafkaRows, BATCH_ROWS),
        freshnessSamples: Math.min(20, P.freshnessSamples),
        tmp,
        cleanups,
      });
      details.kafka_rss_peak_mb = kafkaStage.rss_peak_mb;
      details.kafka = kafkaStage;
    } catch (err) {
      log(`Kafka mode failed: ${err instanceof Error ? err.message : err}`);
      details.kafka_error = String(err instanceof Error ? err.message : err);
    }
  }

  // 3. PostgreSQL baseline: the same rows, the same questions (pg-baseline.ts).
  let pgResult: PgBaseline | undefined;
  let pgSkip: string | undefined;
  if (args['skip-pg']) pgSkip = 'skipped (--skip-pg)';
  else {
    ({ result: pgResult, skip: pgSkip } = await measurePostgres({ plan, tmp, cleanups }));
    if (pgSkip) log(`PostgreSQL baseline: ${pgSkip}`);
  }

  // 4. The ceiling: raw chDB inserts of the same rows, without our pipeline (raw-clickhouse.ts).
  log(
    `raw chDB insert of ${P.rawRows.toLocaleString('en')} rows in 50k-row JSONEachRow batches (table only)`,
  );
  const rawTable = measureRawClickHouse(false, plan, tmp);
  log(`raw chDB table only: ${rawTable.eps.toLocaleString('en')} events/s`);
  const rawViews = measureRawClickHouse(true, plan, tmp);
  log(`raw chDB with the materialized views: ${rawViews.eps.toLocaleString('en')} events/s`);

  // ---- results ----
  const largest = String(P.stages[P.stages.length - 1]);
  const atLargest = emb.pipesBySize[largest] as Record<AnyPipe, PipeRun>;
  const floor = emb.floorBySize[largest] as FloorRun;
  const pgLargest = pgResult?.serial[largest];
  const speedup = (pipe: AnyPipe) =>
    pgLargest ? round2((pgLargest[pipe].p50 as number) / (atLargest[pipe].serial.p50 as number)) : null;
  const result = {
    mode,
    ingest_ndjson_eps_embedded: emb.ingest_eps,
    ingest_ndjson_eps_kafka: kafkaStage?.ingest_eps ?? null,
    ingest_single_eps: emb.single_eps,
    freshness_p50_ms: round2(emb.freshness.p50),
    freshness_p95_ms: round2(emb.freshness.p95),
    pipe_p95_ms: Object.fromEntries(ALL_PIPES.map((p) => [p, atLargest[p].load32.p95])),
    pipe_rps_32: Object.fromEntries(ALL_PIPES.map((p) => [p, atLargest[p].load32.rps])),
    // The same questions with Cache-Control: no-cache, one client: the query's own time.
    pipe_p95_ms_uncached: Object.fromEntries(ALL_PIPES.map((p) => [p, atLargest[p].serial.p95])),
    pipe_cache_hit_ratio_32: Object.fromEntries(
      ALL_PIPES.map((p) => [p, atLargest[p].load32_cache_hit_ratio]),
    ),
    // The per-query floor (SELECT 1 as a pipe, same route) in this run, and each pipe as a multiple of it.
    read_floor: {
      uncached_p50_ms: floor.serial.p50,
      uncached_p95_ms: floor.serial.p95,
      rps_32: floor.load32.rps,
      rps_32_uncached: floor.load32_uncached.rps,
      p95_32_uncached_ms: floor.load32_uncached.p95,
      sql_select1_rps_32: floor.sql32.rps,
    },
    pipe_x_floor_uncached_p50: Object.fromEntries(
      ALL_PIPES.map((p) => [p, round2(atLargest[p].serial.p50 / floor.serial.p50)]),
    ),
    memory_breakdown_mb: emb.memory,
    events_in_store: emb.events_in_store,
    pg_speedup_summary: speedup('feature_usage_summary'),
    pg_speedup_timeline: speedup('feature_usage_timeline'),
    pg_speedup_user: speedup('user_feature_usage'),
    // Issue 10's pipes at the largest stage: uncached (1 client) and as served (32 clients).
    analytics: Object.fromEntries(
      ANALYTICS_PIPES.map((p) => {
        const budget = ANALYTICS_BUDGETS[p];
        const ratio = speedup(p);
        const run = atLargest[p];
        return [
          p,
          {
            kind: budget.kind,
            uncached_p50_ms: run.serial.p50,
            uncached_p95_ms: run.serial.p95,
            rps_32: run.load32.rps,
            p95_32_ms: run.load32.p95,
            cache_hit_ratio_32: run.load32_cache_hit_ratio,
            pg_p50_ms: pgLargest ? pgLargest[p].p50 : null,
            pg_speedup: ratio,
            budget_p95_ms: budget.p95,
            needs_20x_pg: budget.vsPg,
            met: run.serial.p95 <= budget.p95 && (!budget.vsPg || ratio === null || ratio >= 20),
          },
        ];
      }),
    ),
    bytes_per_event: emb.storage.bytes_per_event,
    rss_peak_mb: emb.rss_peak_mb,
    dashboard: emb.dashboard,
    details: {
      ...details,
      generated_at: new Date().toISOString(),
      seconds: Math.round((Date.now() - started) / 1000),
      machine: { cpus: cpus().length, node: process.version },
      ingest: {
        batch_rows: BATCH_ROWS,
        batch_concurrency: BATCH_CONCURRENCY,
        single_concurrency: SINGLE_CONCURRENCY,
        single_events: P.singleEvents,
        bulk_load_eps: emb.bulk_load_eps ?? null,
        // Service CPU per event and the machine's load while measuring: tells code from machine.
        cpu: emb.ingest_cpu,
      },
      freshness_samples: emb.freshness.n,
      post_resets: resets.count,
      freshness_kafka: kafkaStage?.freshness ?? null,
      pipes_by_size: emb.pipesBySize,
      floor_by_size: emb.floorBySize,
      storage: emb.storage,
      raw_clickhouse: { table_only: rawTable, with_views: rawViews },
      postgres: pgResult ?? { skipped: pgSkip },
    },
  };
  mkdirSync(args.out, { recursive: true });
  writeFileSync(join(args.out, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  const typed = result as unknown as Result;
  writeFileSync(join(args.out, 'latest.md'), renderMarkdown(typed));
  writeFileSync(join(args.out, 'latest.svg'), renderSvg(typed));
  process.stdout.write(renderTable(typed));
  log(
    `wrote ${join(args.out, 'latest.json')}, latest.md, latest.svg in ${Math.round((Date.now() - started) / 1000)} s`,
  );
}

// One cleanup, however many paths (SIGINT, failure, success) ask for it: a second caller
// waits for the first instead of exiting while the service is still stopping.
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  })();
  return cleaning;
}

// SIGINT (Ctrl-C) and SIGTERM (kill, CI timeouts) both stop the services this run started.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.on(signal, () => {
    void cleanup().then(() => process.exit(code));
  });
}

main()
  .then(cleanup)
  .then(() => process.exit(0))
  .catch(async (err) => {
    log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : err}`);
    for (const o of serviceOutputs) log(`service output (last 2 kB):\n${o().slice(-2000)}`);
    await cleanup();
    process.exit(1);
  });
