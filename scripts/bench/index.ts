/**
 * npm run bench [-- --quick]
 *
 * Measures, in one run on this machine: HTTP ingest (NDJSON batches and single events,
 * embedded and Kafka mode), freshness, pipe latency and throughput, bytes per event, peak
 * RSS; the same data and questions on PostgreSQL; the raw chDB insert rate (the ceiling).
 * Writes bench/results/latest.{json,md,svg}. Progress goes to stderr, the table to stdout.
 * All traffic stays on 127.0.0.1; every loop is bounded by a count and a time.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Generator, makeGenerator, progress } from '../generate-events.js';
import {
  ANALYTICS_BUDGETS,
  ANALYTICS_PIPES,
  type AnalyticsPipe,
  analyticsParams,
  analyticsPg,
} from './analytics.js';
import { measureDashboard } from './dashboard.js';
import { FLOOR_PIPE, memoryBreakdown, pipesWithFloor } from './floor.js';
import {
  BATCH_CONCURRENCY,
  BATCH_ROWS,
  bulkLoad,
  freshness,
  ingestBatches,
  ingestSingles,
  makeBatches,
  resets,
  SINGLE_CONCURRENCY,
} from './ingest.js';
import { type KafkaStage, measureKafka } from './kafka.js';
import {
  closedLoop,
  currentRssMb,
  type LatencyStats,
  log,
  peakRssMb,
  ROOT,
  request,
  type Service,
  sleep,
  startService,
} from './lib.js';
import { ORIGINAL_PIPES, type OriginalPipe, originalParams } from './params.js';
import { ensurePostgres, PG_QUERIES, type Postgres, startPostgres } from './postgres.js';
import { type Result, renderMarkdown, renderSvg, renderTable } from './report.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'skip-pg': { type: 'boolean', default: false },
    'skip-kafka': { type: 'boolean', default: false },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
  },
});
const QUICK = args.quick;

/** Sizes and durations of each mode. */
const P = QUICK
  ? {
      stages: [200_000],
      users: 20_000,
      ingestRows: 200_000, // measured NDJSON ingest (1,000-row batches) = stage 1
      kafkaRows: 100_000,
      singleEvents: 5_000,
      freshnessSamples: 20,
      loadSeconds: 4,
      serialCalls: 30,
      serialSeconds: 4,
      rawRows: 200_000,
    }
  : {
      stages: [1_000_000, 10_000_000],
      users: 100_000,
      ingestRows: 1_000_000,
      kafkaRows: 1_000_000,
      singleEvents: 30_000,
      freshnessSamples: 60,
      loadSeconds: 10,
      serialCalls: 60,
      serialSeconds: 20,
      rawRows: 1_000_000,
    };
const PIPE_CLIENTS = 32;
const PIPES = ORIGINAL_PIPES;
type Pipe = OriginalPipe;
/** Every pipe measured: the three originals, then the analytics pipes (scripts/bench/analytics.ts). */
const ALL_PIPES = [...PIPES, ...ANALYTICS_PIPES] as const;
type AnyPipe = (typeof ALL_PIPES)[number];
const isAnalytics = (p: AnyPipe): p is AnalyticsPipe => (ANALYTICS_PIPES as readonly string[]).includes(p);
const pgQuery = (p: AnyPipe, params: Record<string, string>) =>
  isAnalytics(p) ? analyticsPg(p, params) : PG_QUERIES[p](params);

const END_MS = Math.floor((Date.now() - 120_000) / 1000) * 1000;
const stageGen = (i: number) =>
  makeGenerator({ seed: 1000 + i, plannedRows: stageRows(i), endMs: END_MS, users: P.users });
const stageRows = (i: number) => (P.stages[i] as number) - (i === 0 ? 0 : (P.stages[i - 1] as number));

const tempDirs: string[] = [];
const cleanups: Array<() => Promise<void>> = [];
const serviceOutputs: Array<() => string> = [];
const tmp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
};

// ---- query parameters: the same sequence for our pipes and PostgreSQL ----

function paramList(pipe: AnyPipe, gen: Generator, n: number): Array<Record<string, string>> {
  if (isAnalytics(pipe)) return Array.from({ length: n }, (_, i) => analyticsParams(pipe, gen, END_MS, i));
  return Array.from({ length: n }, (_, i) => originalParams(pipe, gen, END_MS, i));
}

const pipePath = (pipe: AnyPipe, p: Record<string, string>) =>
  `/v0/pipes/${pipe}.json?${new URLSearchParams(p)}`;

/** X-Cache outcomes of the calls made so far (HIT, MISS, BYPASS), per pipe. */
const cacheOutcomes: Record<string, Record<string, number>> = {};

/** One pipe call; cached=false sends Cache-Control: no-cache, so ClickHouse runs the query. */
async function pipeCall(
  svc: Service,
  pipe: AnyPipe,
  p: Record<string, string>,
  cached = true,
): Promise<boolean> {
  const r = await request(
    svc.baseUrl,
    'GET',
    pipePath(pipe, p),
    svc.token,
    undefined,
    30_000,
    cached ? {} : { 'Cache-Control': 'no-cache' },
  );
  const outcome = String(r.headers['x-cache'] ?? 'none');
  const counts = cacheOutcomes[pipe] ?? {};
  cacheOutcomes[pipe] = counts;
  counts[outcome] = (counts[outcome] ?? 0) + 1;
  return r.status === 200;
}

// ---- the measurements ----

interface PipeRun {
  /** 32 clients, as served (result cache on): what callers see. */
  load32: LatencyStats;
  /** Share of those calls answered from the result cache. */
  load32_cache_hit_ratio: number;
  /** 1 client, Cache-Control: no-cache: the query itself (compared with PostgreSQL). */
  serial: LatencyStats;
}

/** The per-query floor at each size: SELECT 1 as a pipe, through the same route as every pipe. */
interface FloorRun {
  /** 1 client, no-cache: every call a chDB query. */
  serial: LatencyStats;
  /** 32 clients, as served (all cache hits): the HTTP, auth and cache path alone. */
  load32: LatencyStats;
  /** 32 clients, no-cache: every call a query; no pipe that misses the cache can serve more. */
  load32_uncached: LatencyStats;
  /** /v0/sql SELECT 1 at 32 clients (its guard parses each text too). */
  sql32: LatencyStats;
}
const floorBySize: Record<string, FloorRun> = {};

async function measureFloor(svc: Service): Promise<FloorRun> {
  const call = (cached: boolean) => async () => {
    const r = await request(
      svc.baseUrl,
      'GET',
      `/v0/pipes/${FLOOR_PIPE}.json`,
      svc.token,
      undefined,
      30_000,
      cached ? {} : { 'Cache-Control': 'no-cache' },
    );
    return r.status === 200;
  };
  for (let i = 0; i < 5; i++) await call(false)();
  const serial = await closedLoop(1, P.serialSeconds * 1000, P.serialCalls, call(false));
  const load32 = await closedLoop(PIPE_CLIENTS, P.loadSeconds * 1000, 1e9, call(true));
  const load32_uncached = await closedLoop(PIPE_CLIENTS, P.loadSeconds * 1000, 1e9, call(false));
  const sql32 = await closedLoop(PIPE_CLIENTS, P.loadSeconds * 1000, 1e9, async () => {
    const r = await request(svc.baseUrl, 'POST', '/v0/sql', svc.token, 'SELECT 1 FORMAT JSON');
    return r.status === 200;
  });
  log(
    `floor (SELECT 1 pipe): 1 client uncached p50 ${serial.p50} p95 ${serial.p95} ms; 32 clients ${load32.rps} req/s served, ${load32_uncached.rps} req/s as queries (p95 ${load32_uncached.p95} ms); /v0/sql ${sql32.rps} req/s`,
  );
  return { serial, load32, load32_uncached, sql32 };
}

async function measurePipes(svc: Service, gen: Generator, size: number): Promise<Record<AnyPipe, PipeRun>> {
  const out = {} as Record<AnyPipe, PipeRun>;
  floorBySize[size] = await measureFloor(svc);
  for (const pipe of ALL_PIPES) {
    const params = paramList(pipe, gen, 50_000);
    // Warm up (first query compiles and fills caches).
    for (let i = 0; i < 5; i++) await pipeCall(svc, pipe, params[i] as Record<string, string>);
    cacheOutcomes[pipe] = {};
    const load32 = await closedLoop(PIPE_CLIENTS, P.loadSeconds * 1000, params.length, (i) =>
      pipeCall(svc, pipe, params[i] as Record<string, string>),
    );
    const counts = cacheOutcomes[pipe] ?? {};
    const hitRatio = round2((counts.HIT ?? 0) / Math.max(1, load32.n + load32.errors));
    const serial = await closedLoop(1, P.serialSeconds * 1000, P.serialCalls, (i) =>
      pipeCall(svc, pipe, params[i] as Record<string, string>, false),
    );
    log(
      `${pipe} @ ${size.toLocaleString('en')}: 32 clients p50 ${load32.p50} p95 ${load32.p95} p99 ${load32.p99} ms, ${load32.rps} req/s, ${load32.errors} errors, ${Math.round(hitRatio * 100)}% cache hits; 1 client uncached p50 ${serial.p50} p95 ${serial.p95} ms`,
    );
    out[pipe] = { load32, load32_cache_hit_ratio: hitRatio, serial };
  }
  return out;
}

async function storage(svc: Service, events: number) {
  const rows = await svc.sql<{ table: string; bytes: string; parts: string }>(
    "SELECT table, sum(bytes_on_disk) AS bytes, count() AS parts FROM system.parts WHERE active AND database = currentDatabase() AND table IN ('feature_events', 'feature_usage_hourly', 'feature_usage_by_user') GROUP BY table",
  );
  const by: Record<string, { bytes: number; parts: number; per_event: number }> = {};
  let total = 0;
  for (const r of rows) {
    by[r.table] = {
      bytes: Number(r.bytes),
      parts: Number(r.parts),
      per_event: round2(Number(r.bytes) / events),
    };
    total += Number(r.bytes);
  }
  const cols = await svc.sql<{ name: string; bytes: string }>(
    "SELECT name, sum(data_compressed_bytes) AS bytes FROM system.columns WHERE database = currentDatabase() AND table = 'feature_events' GROUP BY name ORDER BY bytes DESC",
  );
  const hourlyCols = await svc.sql<{ name: string; bytes: string }>(
    "SELECT name, sum(data_compressed_bytes) AS bytes FROM system.columns WHERE database = currentDatabase() AND table IN ('feature_usage_hourly', 'feature_usage_by_user') GROUP BY name ORDER BY bytes DESC",
  );
  return {
    bytes_per_event: round2(total / events),
    tables: by,
    raw_columns_bytes_per_event: Object.fromEntries(
      cols.map((c) => [c.name, round2(Number(c.bytes) / events)]),
    ),
    rollup_columns_bytes_per_event: Object.fromEntries(
      hourlyCols.map((c) => [c.name, round2(Number(c.bytes) / events)]),
    ),
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

async function pgSerial(pgdb: Postgres, gen: Generator): Promise<Record<AnyPipe, LatencyStats>> {
  const out = {} as Record<AnyPipe, LatencyStats>;
  for (const pipe of ALL_PIPES) {
    const params = paramList(pipe, gen, P.serialCalls + 2);
    await pgdb.client.query(pgQuery(pipe, params[0] as Record<string, string>));
    out[pipe] = await closedLoop(1, P.serialSeconds * 1000, P.serialCalls, async (i) => {
      await pgdb.client.query(pgQuery(pipe, params[i] as Record<string, string>));
      return true;
    });
    log(
      `PostgreSQL ${pipe}: 1 client p50 ${out[pipe].p50} ms p95 ${out[pipe].p95} ms (${out[pipe].n} calls)`,
    );
  }
  return out;
}

/** The same stage generators, written as COPY text files the server can read. */
function writeTsv(dir: string, stage: number): string {
  const gen = stageGen(stage);
  const rows = stageRows(stage);
  const file = join(dir, `stage${stage}.tsv`);
  const bar = progress(`PostgreSQL data stage ${stage + 1}`, rows);
  writeFileSync(file, '');
  for (let done = 0; done < rows; ) {
    const n = Math.min(100_000, rows - done);
    writeFileSync(file, gen.tsv(n), { flag: 'a' });
    done += n;
    bar.tick(done);
  }
  bar.done();
  chmodSync(file, 0o644);
  return file;
}

function rawClickHouse(views: boolean): { eps: number; bytes_on_disk: number; rows: number } {
  const dir = tmp('fe-bench-raw-');
  const stages = [{ seed: 1000, rows: P.rawRows, endMs: END_MS, users: P.users }];
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'scripts/bench/raw-clickhouse.ts'),
      JSON.stringify({ dataDir: dir, views, batchRows: 50_000, stages }),
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  rmSync(dir, { recursive: true, force: true });
  return JSON.parse(out.trim().split('\n').pop() as string);
}

// ---- the run ----

async function main() {
  const started = Date.now();
  const mode = QUICK ? 'quick' : 'full';
  log(
    `mode ${mode}: sizes ${P.stages.map((s) => s.toLocaleString('en')).join(', ')} events, ${P.users.toLocaleString('en')} users`,
  );
  const details: Record<string, unknown> = { mode, stages: P.stages, params: P };
  let rssPeak = 0;

  // 1. Embedded mode: ingest, freshness, pipes at each size, storage, RSS.
  log('embedded mode: starting the service');
  // PROJECT_DIR adds the SELECT 1 floor pipe (floor.ts) to the service's own pipes.
  const svc = await startService(tmp('fe-bench-emb-'), { PROJECT_DIR: pipesWithFloor(ROOT) });
  cleanups.push(() => svc.stop());
  serviceOutputs.push(svc.output);
  const pid = svc.proc.pid;
  const pipesBySize: Record<string, Record<AnyPipe, PipeRun>> = {};
  const ourSerialBySize: Record<string, Record<Pipe, LatencyStats>> = {};
  let ingestEmbedded = 0;
  let ingestSingle = 0;
  let fresh = { p50: Number.NaN, p95: Number.NaN, n: 0 };
  let bulkEps: number | undefined;
  for (let s = 0; s < P.stages.length; s++) {
    const gen = stageGen(s);
    if (s === 0) {
      log(`generating ${P.ingestRows.toLocaleString('en')} events in ${BATCH_ROWS}-row NDJSON batches`);
      const batches = makeBatches(gen, P.ingestRows, BATCH_ROWS);
      ingestEmbedded = await ingestBatches(svc, 'NDJSON x1000 embedded', batches, P.ingestRows);
      if (P.ingestRows < stageRows(0)) await bulkLoad(svc, gen, stageRows(0), P.ingestRows);
      ingestSingle = await ingestSingles(
        svc,
        P.singleEvents,
        makeGenerator({ seed: 7, plannedRows: P.singleEvents, endMs: END_MS, users: P.users }),
      );
      fresh = await freshness(svc, P.freshnessSamples, 'embedded');
      rssPeak = Math.max(rssPeak, peakRssMb(pid));
    } else {
      bulkEps = await bulkLoad(svc, gen, stageRows(s), 0);
    }
    const size = P.stages[s] as number;
    await sleep(1_000);
    pipesBySize[size] = await measurePipes(svc, stageGen(s), size);
    ourSerialBySize[size] = Object.fromEntries(
      PIPES.map((p) => [p, pipesBySize[size]?.[p].serial]),
    ) as Record<Pipe, LatencyStats>;
    rssPeak = Math.max(rssPeak, peakRssMb(pid));
  }
  log('dashboard: first visit in Chromium at the largest stage');
  const dashboard = await measureDashboard(svc.baseUrl, svc.token).catch((err: Error) => ({
    skipped: err.message,
  }));
  log(`dashboard: ${JSON.stringify(dashboard)}`);
  const eventsInStore = await svc.count();
  // Give background merges a moment, then read sizes.
  await sleep(QUICK ? 2_000 : 10_000);
  const store = await storage(svc, eventsInStore);
  rssPeak = Math.max(rssPeak, peakRssMb(pid));
  const memory = await memoryBreakdown(svc);
  details.rss_now_mb = currentRssMb(pid);
  log(
    `store: ${eventsInStore.toLocaleString('en')} events, ${store.bytes_per_event} bytes/event, peak RSS ${rssPeak} MB`,
  );
  await svc.stop();

  // 2. Kafka mode (librdkafka's mock broker), beside kafkajs alone on the same broker.
  let kafkaStage: KafkaStage | undefined;
  if (args['skip-kafka']) log('Kafka mode skipped (--skip-kafka)');
  else {
    try {
      kafkaStage = await measureKafka({
        rows: P.kafkaRows,
        batches: makeBatches(stageGen(0), P.kafkaRows, BATCH_ROWS),
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
  const ingestKafka = kafkaStage?.ingest_eps;
  const freshKafka = kafkaStage?.freshness;

  // 3. PostgreSQL baseline: the same rows, the same questions.
  let pgResult:
    | {
        ingest_eps: number;
        bytes_per_event: number;
        bytes: unknown;
        serial: Record<string, Record<AnyPipe, LatencyStats>>;
      }
    | undefined;
  let pgSkip: string | undefined;
  if (args['skip-pg']) pgSkip = 'skipped (--skip-pg)';
  else {
    const found = ensurePostgres();
    if (!found.bin) pgSkip = found.skip;
    else {
      log('PostgreSQL: starting a throwaway cluster');
      const pgdb = await startPostgres(found.bin);
      cleanups.push(() => pgdb.stop());
      const dir = tmp('fe-bench-pgdata-');
      chmodSync(dir, 0o755);
      let copySecs = 0;
      const serial: Record<string, Record<AnyPipe, LatencyStats>> = {};
      for (let s = 0; s < P.stages.length; s++) {
        const file = writeTsv(dir, s);
        copySecs += await pgdb.copy(file);
        rmSync(file);
        serial[P.stages[s] as number] = await pgSerial(pgdb, stageGen(s));
      }
      const total = P.stages[P.stages.length - 1] as number;
      const bytes = await pgdb.bytes();
      pgResult = {
        ingest_eps: Math.round(total / copySecs),
        bytes_per_event: round2(bytes.total / total),
        bytes,
        serial,
      };
      await pgdb.stop();
    }
    if (pgSkip) log(`PostgreSQL baseline: ${pgSkip}`);
  }

  // 4. The ceiling: raw chDB inserts of the same rows, without our pipeline.
  log(
    `raw chDB insert of ${P.rawRows.toLocaleString('en')} rows in 50k-row JSONEachRow batches (table only)`,
  );
  const rawTable = rawClickHouse(false);
  log(`raw chDB table only: ${rawTable.eps.toLocaleString('en')} events/s`);
  const rawViews = rawClickHouse(true);
  log(`raw chDB with the materialized views: ${rawViews.eps.toLocaleString('en')} events/s`);

  // ---- results ----
  const largest = String(P.stages[P.stages.length - 1]);
  const atLargest = pipesBySize[largest] as Record<AnyPipe, PipeRun>;
  const floor = floorBySize[largest] as FloorRun;
  const pgLargest = pgResult?.serial[largest];
  const speedup = (pipe: AnyPipe) =>
    pgLargest ? round2((pgLargest[pipe].p50 as number) / (atLargest[pipe].serial.p50 as number)) : null;
  const result = {
    mode,
    ingest_ndjson_eps_embedded: ingestEmbedded,
    ingest_ndjson_eps_kafka: ingestKafka ?? null,
    ingest_single_eps: ingestSingle,
    freshness_p50_ms: round2(fresh.p50),
    freshness_p95_ms: round2(fresh.p95),
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
    memory_breakdown_mb: memory,
    events_in_store: eventsInStore,
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
    bytes_per_event: store.bytes_per_event,
    rss_peak_mb: rssPeak,
    dashboard,
    details: {
      ...details,
      generated_at: new Date().toISOString(),
      seconds: Math.round((Date.now() - started) / 1000),
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      ingest: {
        batch_rows: BATCH_ROWS,
        batch_concurrency: BATCH_CONCURRENCY,
        single_concurrency: SINGLE_CONCURRENCY,
        single_events: P.singleEvents,
        bulk_load_eps: bulkEps ?? null,
      },
      freshness_samples: fresh.n,
      post_resets: resets.count,
      freshness_kafka: freshKafka ?? null,
      pipes_by_size: pipesBySize,
      floor_by_size: floorBySize,
      storage: store,
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
