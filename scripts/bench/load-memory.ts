/**
 * Where the service's memory goes while it loads events (issue 15: peak RSS ≤ 1 GiB at 10M).
 * Loads N generated events through the service's own ingest, the way the full bench's bulk
 * load does (25k-row NDJSON bodies, 2 in flight), into a fresh data dir, and samples the
 * process every 500 ms: RSS split into anonymous and file-backed pages (/proc/<pid>/status),
 * Node's heap and external memory and the spool's pending bytes (/metrics), and chDB's own
 * tracked memory (system.metrics MemoryTracking).
 *
 *   node --import tsx scripts/bench/load-memory.ts --events 2000000 \
 *     --variants 'default;arena2=MALLOC_ARENA_MAX=2' --repeat 2 --dir /tmp/i44/lm
 *
 * Variants are NAME=VAR=VALUE,VAR=VALUE;... (the first may be a bare name: no extra env;
 * ROOT=<dir> serves from another checkout, e.g. `git archive main`, for a before/after), run
 * one after the other, alternating, `repeat` times, so the machine's load weighs on each
 * alike. Prints one line per run and a table of medians; --out writes every run as JSON.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeGenerator } from '../generate-events.js';
import { postBatch } from './ingest.js';
import { log, median, sleep, startService, waitForCount } from './lib.js';
import { memoryNow, memorySampler } from './memory.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '2000000' },
    dir: { type: 'string', default: '/tmp/load-memory' },
    variants: { type: 'string', default: 'default' },
    repeat: { type: 'string', default: '1' },
    /** Requests in flight while loading (the bench's bulk load: 2). */
    inflight: { type: 'string', default: '2' },
    rows: { type: 'string', default: '25000' },
    out: { type: 'string' },
  },
});
const EVENTS = Number(args.events);
const BODY_ROWS = Number(args.rows);
const INFLIGHT = Number(args.inflight);

interface Variant {
  name: string;
  env: Record<string, string>;
}

function parseVariants(spec: string): Variant[] {
  return spec.split(';').map((v) => {
    const [name, ...kvs] = v.split(',');
    const [head, ...first] = (name as string).split('=');
    const pairs = [...(first.length ? [first.join('=')] : []), ...kvs].filter(Boolean);
    return {
      name: head as string,
      env: Object.fromEntries(pairs.map((kv) => kv.split(/=(.*)/s, 2) as [string, string])),
    };
  });
}

interface RunResult {
  variant: string;
  events: number;
  load_eps: number;
  vm_hwm: number;
  /** The highest value of each figure while loading (scripts/bench/memory.ts). */
  peak: Record<string, number>;
  /** Every figure at the sample with the highest RSS. */
  at_peak_rss: Record<string, number>;
  after: Record<string, number>;
  status503: number;
}

async function loadOnce(v: Variant, dir: string): Promise<RunResult> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // ROOT=<checkout> runs another checkout's service (e.g. `git archive main`), for a before/after.
  const { ROOT: root, ...env } = v.env;
  const svc = await startService(dir, env, [], root);
  try {
    const gen = makeGenerator({ seed: 15, plannedRows: EVENTS, endMs: Date.now() - 120_000, users: 100_000 });
    const sampler = memorySampler(svc, 500);
    let status503 = 0;
    // Unbounded busy retries: the 503s are what this script counts, not a failure.
    const post = (body: string) =>
      postBatch(svc, body, { timeoutMs: 300_000, busyTries: Infinity, onBusy: () => status503++ });
    const t0 = performance.now();
    const inflight = new Set<Promise<void>>();
    for (let done = 0; done < EVENTS; ) {
      const n = Math.min(BODY_ROWS, EVENTS - done);
      const p: Promise<void> = post(gen.ndjson(n)).then(() => {
        inflight.delete(p);
      });
      inflight.add(p);
      done += n;
      if (inflight.size >= INFLIGHT) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    const t = await waitForCount(svc, EVENTS, 900_000);
    // Merges started by the last inserts still run: sample them too.
    await sleep(5_000);
    const { peak, atPeak } = await sampler.stop();
    const after = await memoryNow(svc);
    return {
      variant: v.name,
      events: EVENTS,
      load_eps: Math.round(EVENTS / ((t - t0) / 1000)),
      vm_hwm: after.VmHWM ?? 0,
      peak,
      at_peak_rss: atPeak,
      after,
      status503,
    };
  } finally {
    await svc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const figures = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

function line(r: RunResult): string {
  return `${r.variant}: ${r.load_eps} ev/s, VmHWM ${r.vm_hwm} MiB, 503s ${r.status503}; highest: ${figures(r.peak)}; at the highest RSS: ${figures(r.at_peak_rss)}; after: VmRSS ${r.after.VmRSS}`;
}

/** The at-peak figures the second table shows: RssAnon and who holds it. */
const AT_PEAK = [
  'VmRSS',
  'RssAnon',
  'AnonTotal',
  'JemallocResident',
  'JemallocAllocated',
  'JemallocDirty',
  'MemoryTracking',
  'NodeHeapTotal',
  'V8Space_new',
  'NodeExternal',
  'AnonGlibc',
  'AnonThreadStacks',
  'AnonInFileMaps',
  'Threads',
  'AnonUnattributed',
];

async function main() {
  const variants = parseVariants(args.variants as string);
  const runs: RunResult[] = [];
  for (let i = 0; i < Number(args.repeat); i++) {
    for (const v of variants) {
      log(`run ${i + 1}: ${v.name} ${JSON.stringify(v.env)}`);
      const r = await loadOnce(v, join(args.dir as string, v.name));
      runs.push(r);
      log(line(r));
    }
  }
  const rows = variants.map((v) => {
    const rs = runs.filter((r) => r.variant === v.name);
    const m = (f: (r: RunResult) => number) => median(rs.map(f));
    const p = (k: string) => m((r) => r.peak[k] ?? Number.NaN);
    return `| ${v.name} | ${m((r) => r.load_eps)} | ${m((r) => r.vm_hwm)} | ${p('RssAnon')} | ${p('RssFile')} | ${p('NodeHeapTotal')} | ${p('NodeExternal')} | ${p('SpoolPending')} | ${p('MemoryTracking')} | ${m((r) => r.after.VmRSS ?? Number.NaN)} |`;
  });
  process.stdout.write(
    [
      `${EVENTS.toLocaleString('en')} events, ${args.repeat} run(s) each, medians (MiB)`,
      '',
      '| variant | load ev/s | VmHWM | RssAnon peak | RssFile peak | heap total peak | external peak | spool pending peak | chDB MemoryTracking peak | RSS after |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      'At the sample of highest RSS, RssAnon by owner (scripts/bench/memory.ts attribute()), medians (MiB):',
      '',
      `| variant | ${AT_PEAK.join(' | ')} |`,
      `|---|${AT_PEAK.map(() => '---').join('|')}|`,
      ...variants.map((v) => {
        const rs = runs.filter((r) => r.variant === v.name);
        return `| ${v.name} | ${AT_PEAK.map((k) => median(rs.map((r) => r.at_peak_rss[k] ?? Number.NaN))).join(' | ')} |`;
      }),
      '',
    ].join('\n'),
  );
  if (args.out) writeFileSync(args.out, JSON.stringify(runs, null, 2));
}

if (process.argv[1]?.endsWith('load-memory.ts')) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
