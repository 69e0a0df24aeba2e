/**
 * The read path, measured on its own (issue 15): every pipe uncached at 1 client and as
 * served at 32 clients with varied parameters, beside the per-query floor (`SELECT 1` as a
 * pipe, through the same route) measured in the same run, so each figure reads as a multiple
 * of it.
 *
 *   node --import tsx scripts/bench/read-path.ts --dir /tmp/i15/data-1m --events 1000000
 *
 * The data dir is kept: the first run loads the events (through the service's own ingest),
 * later runs reuse them. A before/after comparison in one run: --before-dir (a copy of the
 * data dir, since migrations only go forward) served by --before-root (another checkout,
 * e.g. `git archive main`), measured pipe by pipe alternately with --dir.
 * Prints a table; --out writes the figures as JSON.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeGenerator, progress } from '../generate-events.js';
import { ANALYTICS_PIPES, analyticsParams } from './analytics.js';
import { FLOOR_PIPE, measureFloorQueries, pipesWithFloor } from './floor.js';
import { postBatch } from './ingest.js';
import {
  closedLoop,
  currentRssMb,
  type LatencyStats,
  log,
  peakRssMb,
  pipeRequest,
  ROOT,
  type Service,
  sleep,
  startService,
  stats,
  waitForCount,
} from './lib.js';
import { memoryNow, memorySampler } from './memory.js';
import { ORIGINAL_PIPES, originalParams } from './params.js';

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string', default: '/tmp/read-path-data' },
    events: { type: 'string', default: '1000000' },
    root: { type: 'string', default: ROOT },
    seconds: { type: 'string', default: '5' },
    calls: { type: 'string', default: '40' },
    pipes: { type: 'string' },
    'before-dir': { type: 'string' },
    'before-root': { type: 'string' },
    /** NAME=VALUE,... for the --dir service only, e.g. PIPE_MAX_THREADS=1 against the same code. */
    env: { type: 'string' },
    /** Measure only once no merge has run for a while: the part layout lookups meet after inserts stop. */
    settle: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const EVENTS = Number(args.events);
const SECONDS = Number(args.seconds);
const CALLS = Number(args.calls);
const USERS = 100_000;
const BULK_ROWS = 25_000;

interface Meta {
  endMs: number;
  seed: number;
}

async function load(svc: Service, meta: Meta): Promise<void> {
  const have = await svc.count();
  if (have >= EVENTS) return;
  const gen = makeGenerator({ seed: meta.seed, plannedRows: EVENTS, endMs: meta.endMs, users: USERS });
  for (let skipped = 0; skipped < have; skipped += BULK_ROWS) gen.ndjson(Math.min(BULK_ROWS, have - skipped));
  const bar = progress('load', EVENTS - have);
  // Where the memory goes while loading (scripts/bench/memory.ts).
  const sampler = memorySampler(svc);
  const inflight = new Set<Promise<void>>();
  for (let done = have; done < EVENTS; ) {
    const n = Math.min(BULK_ROWS, EVENTS - done);
    const body = gen.ndjson(n);
    const p: Promise<void> = postBatch(svc, body, { timeoutMs: 300_000, busyTries: Infinity }).then(() => {
      inflight.delete(p);
    });
    inflight.add(p);
    done += n;
    if (inflight.size >= 2) await Promise.race(inflight);
    bar.tick(done - have);
  }
  await Promise.all(inflight);
  await waitForCount(svc, EVENTS, 900_000);
  bar.done();
  const { peak, atPeak } = await sampler.stop();
  const figures = (m: Record<string, number>) =>
    Object.entries(m)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  log(
    `while loading (MiB): peak RSS ${peakRssMb(svc.proc.pid)}; highest: ${figures(peak)}; at the highest RSS: ${figures(atPeak)}`,
  );
}

/**
 * Waits until no merge has run in three checks 3 s apart (at most 5 minutes): merges started
 * by the last inserts, or forced on parts that aged (migration 012), are done.
 */
async function settle(svc: Service, label: string): Promise<void> {
  const t0 = Date.now();
  for (let quiet = 0; quiet < 3 && Date.now() - t0 < 300_000; ) {
    const [row] = await svc.sql<{ n: string }>('SELECT count() AS n FROM system.merges');
    quiet = Number(row?.n) === 0 ? quiet + 1 : 0;
    await sleep(3_000);
  }
  log(`${label}: merges settled after ${Math.round((Date.now() - t0) / 1000)} s`);
}

type Params = Record<string, string>;

export interface PipeFigures {
  uncached: LatencyStats;
  /** ClickHouse's own elapsed time (statistics.elapsed), ms, p50 and p95 of the uncached calls. */
  ch_p50_ms: number;
  ch_p95_ms: number;
  rows_read_p50: number;
  served32: LatencyStats;
  hit_ratio: number;
}

async function measurePipe(svc: Service, pipe: string, params: (i: number) => Params): Promise<PipeFigures> {
  const call = (p: Params, cached: boolean) => pipeRequest(svc, pipe, p, cached);
  for (let i = 0; i < 3; i++) await call(params(i), false); // first calls parse and fill chDB's caches
  const lat: number[] = [];
  const ch: number[] = [];
  const rowsRead: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const s = performance.now();
    const r = await call(params(1000 + i), false);
    if (r.status !== 200) {
      errors++;
      if (errors === 1) log(`${pipe}: ${r.status} ${r.body.slice(0, 200)}`);
      continue;
    }
    lat.push(performance.now() - s);
    const st = (JSON.parse(r.body) as { statistics?: { elapsed: number; rows_read: number } }).statistics;
    ch.push((st?.elapsed ?? Number.NaN) * 1000);
    rowsRead.push(st?.rows_read ?? Number.NaN);
  }
  const uncached = stats(lat, errors, performance.now() - t0);
  const ranked = (xs: number[]) => stats(xs, 0, 1);
  let hits = 0;
  let total = 0;
  const served32 = await closedLoop(32, SECONDS * 1000, 1e9, async (i) => {
    const r = await call(params(100_000 + i), true);
    total++;
    if (r.headers['x-cache'] === 'HIT') hits++;
    return r.status === 200;
  });
  return {
    uncached,
    ch_p50_ms: ranked(ch).p50,
    ch_p95_ms: ranked(ch).p95,
    rows_read_p50: ranked(rowsRead).p50,
    served32,
    hit_ratio: total ? Math.round((hits / total) * 100) / 100 : 0,
  };
}

interface Run {
  label: string;
  root: string;
  events: number;
  figures: Record<string, PipeFigures>;
  floorQueries32: LatencyStats;
  sql32: LatencyStats;
  rss: { peak_mb: number; current_mb: number };
  memory: Record<string, number>;
  parts: Array<{ table: string; parts: string; rows: string }>;
}

function pipeList(meta: Meta): Array<[string, (i: number) => Params]> {
  // Each service gets its own generator with the same seed: both see the same parameters.
  const gen = makeGenerator({ seed: 99, plannedRows: EVENTS, endMs: meta.endMs, users: USERS });
  const wanted = args.pipes?.split(',');
  return [
    [FLOOR_PIPE, () => ({})] as [string, (i: number) => Params],
    ...ORIGINAL_PIPES.map((p): [string, (i: number) => Params] => [
      p,
      (i) => originalParams(p, gen, meta.endMs, i),
    ]),
    ...ANALYTICS_PIPES.map((p): [string, (i: number) => Params] => [
      p,
      (i) => analyticsParams(p, gen, meta.endMs, i),
    ]),
  ].filter(([p]) => !wanted || p === FLOOR_PIPE || wanted.includes(p));
}

function table(run: Run): string {
  const floor = run.figures[FLOOR_PIPE] as PipeFigures;
  const x = (a: number, b: number) => `${(a / b).toFixed(1)}x`;
  const rows = Object.entries(run.figures).map(
    ([pipe, f]) =>
      `| ${pipe} | ${f.uncached.p50} / ${f.uncached.p95} (${x(f.uncached.p50, floor.uncached.p50)}) | ${f.ch_p50_ms} | ${f.rows_read_p50} | ${f.served32.rps} (${x(f.served32.rps, floor.served32.rps)}) | ${f.served32.p95} | ${Math.round(f.hit_ratio * 100)}% |`,
  );
  return [
    `${run.label}: ${run.events.toLocaleString('en')} events (${run.root})`,
    '',
    '| pipe | 1 client uncached p50 / p95 ms (x floor p50) | in ClickHouse p50 ms | rows read p50 | 32 clients req/s (x floor) | 32 clients p95 ms | cache hits |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `floor as a query every call (no-cache), 32 clients: ${run.floorQueries32.rps} req/s, p95 ${run.floorQueries32.p95} ms`,
    `/v0/sql SELECT 1, 32 clients: ${run.sql32.rps} req/s, p95 ${run.sql32.p95} ms`,
    `RSS: peak ${run.rss.peak_mb} MiB, now ${run.rss.current_mb} MiB; chDB (MiB): ${Object.entries(run.memory)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `active parts: ${run.parts.map((p) => `${p.table} ${p.parts} (${Number(p.rows).toLocaleString('en')} rows)`).join(', ')}`,
    '',
  ].join('\n');
}

async function open(label: string, dir: string, root: string, meta: Meta, env: Record<string, string> = {}) {
  const svc = await startService(dir, { PROJECT_DIR: pipesWithFloor(root), ...env }, [], root);
  await load(svc, meta);
  if (args.settle) await settle(svc, label);
  const events = await svc.count();
  const parts = await svc.sql<{ table: string; parts: string; rows: string }>(
    'SELECT table, count() AS parts, sum(rows) AS rows FROM system.parts WHERE active AND database = currentDatabase() GROUP BY table ORDER BY table',
  );
  log(
    `${label}: ${events.toLocaleString('en')} events; active parts: ${parts.map((p) => `${p.table} ${p.parts}`).join(', ')}`,
  );
  const run: Run = {
    label,
    root,
    events,
    figures: {},
    parts,
    floorQueries32: stats([], 0, 1),
    sql32: stats([], 0, 1),
    rss: { peak_mb: 0, current_mb: 0 },
    memory: {},
  };
  return { svc, run, pipes: pipeList(meta) };
}

async function finish(svc: Service, run: Run): Promise<void> {
  // The floor with every call a query (no-cache), and /v0/sql's (its guard parses the text too).
  const queries = await measureFloorQueries(svc, SECONDS);
  run.floorQueries32 = queries.load32_uncached;
  run.sql32 = queries.sql32;
  run.rss = { peak_mb: peakRssMb(svc.proc.pid), current_mb: currentRssMb(svc.proc.pid) };
  run.memory = await memoryNow(svc);
}

async function main() {
  const metaFor = (dir: string): Meta => {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'read-path-meta.json');
    const meta: Meta = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as Meta)
      : { endMs: Math.floor((Date.now() - 120_000) / 1000) * 1000, seed: 15 };
    writeFileSync(file, JSON.stringify(meta));
    return meta;
  };
  const meta = metaFor(args.dir);
  // With --before-dir, two services side by side: each pipe is measured on one, then the
  // other, so the machine's load at that moment weighs on both alike.
  const sides = [];
  try {
    if (args['before-dir'])
      sides.push(
        await open('before', args['before-dir'], args['before-root'] ?? ROOT, metaFor(args['before-dir'])),
      );
    const env = Object.fromEntries(
      (args.env?.split(',') ?? []).map((kv) => kv.split('=', 2) as [string, string]),
    );
    sides.push(await open(args['before-dir'] ? 'after' : 'run', args.dir, args.root, meta, env));
    const first = sides[0] as (typeof sides)[number];
    for (let k = 0; k < first.pipes.length; k++) {
      for (const side of sides) {
        const [pipe, params] = side.pipes[k] as [string, (i: number) => Params];
        const f = await measurePipe(side.svc, pipe, params);
        side.run.figures[pipe] = f;
        log(
          `${side.run.label} ${pipe}: uncached p50 ${f.uncached.p50} p95 ${f.uncached.p95} ms (in ClickHouse ${f.ch_p50_ms}/${f.ch_p95_ms} ms, ${f.rows_read_p50} rows); 32 clients ${f.served32.rps} req/s p95 ${f.served32.p95} ms, ${Math.round(f.hit_ratio * 100)}% hits`,
        );
      }
    }
    for (const side of sides) await finish(side.svc, side.run);
    process.stdout.write(sides.map((s) => table(s.run)).join('\n'));
    if (args.out)
      writeFileSync(
        args.out,
        JSON.stringify(
          sides.map((s) => s.run),
          null,
          2,
        ),
      );
  } finally {
    for (const side of sides) await side.svc.stop();
  }
}

if (process.argv[1]?.endsWith('read-path.ts')) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
