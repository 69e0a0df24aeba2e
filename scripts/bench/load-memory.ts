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
 * Variants are NAME=VAR=VALUE,VAR=VALUE;... (the first may be a bare name: no extra env), run
 * one after the other, alternating, `repeat` times, so the machine's load weighs on each
 * alike. Prints one line per run and a table of medians; --out writes every run as JSON.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeGenerator } from '../generate-events.js';
import { log, request, type Service, sleep, startService, waitForCount } from './lib.js';

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

/** MiB figures of one sample; the run keeps the peak of each and the sample at peak RSS. */
export interface MemorySample {
  rss: number;
  rss_anon: number;
  rss_file: number;
  heap_used: number;
  heap_total: number;
  external: number;
  pending: number;
  chdb_tracked: number;
}

const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

function procStatus(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = line.match(/^(\w+):\s+(\d+) kB/);
    if (m) out[m[1] as string] = Number(m[2]) / 1024;
  }
  return out;
}

/** Node's own figures from the service's /metrics (prom-client's default process metrics). */
async function nodeMetrics(svc: Service): Promise<Record<string, number>> {
  const r = await request(svc.baseUrl, 'GET', '/metrics', svc.token, undefined, 5_000);
  const out: Record<string, number> = {};
  for (const line of r.body.split('\n')) {
    const m = line.match(
      /^(\w+?)(nodejs_heap_size_used_bytes|nodejs_heap_size_total_bytes|nodejs_external_memory_bytes|queue_pending_bytes)(\{[^}]*\})? ([\d.e+]+)$/,
    );
    if (m) out[m[2] as string] = Number(m[4]);
  }
  return out;
}

async function sample(svc: Service): Promise<MemorySample> {
  const pid = svc.proc.pid as number;
  const [node, tracked] = await Promise.all([
    nodeMetrics(svc),
    svc
      .sql<{ v: number }>(`SELECT toFloat64(value) AS v FROM system.metrics WHERE metric = 'MemoryTracking'`)
      .then((r) => Number(r[0]?.v ?? 0)),
  ]);
  const st = procStatus(pid);
  return {
    rss: Math.round(st.VmRSS ?? 0),
    rss_anon: Math.round(st.RssAnon ?? 0),
    rss_file: Math.round(st.RssFile ?? 0),
    heap_used: mib(node.nodejs_heap_size_used_bytes ?? 0),
    heap_total: mib(node.nodejs_heap_size_total_bytes ?? 0),
    external: mib(node.nodejs_external_memory_bytes ?? 0),
    pending: mib(node.queue_pending_bytes ?? 0),
    chdb_tracked: mib(tracked),
  };
}

interface RunResult {
  variant: string;
  events: number;
  load_eps: number;
  vm_hwm: number;
  peak: MemorySample;
  at_peak_rss: MemorySample;
  after: MemorySample;
  status503: number;
}

async function loadOnce(v: Variant, dir: string): Promise<RunResult> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const svc = await startService(dir, v.env);
  try {
    const gen = makeGenerator({ seed: 15, plannedRows: EVENTS, endMs: Date.now() - 120_000, users: 100_000 });
    const peak: MemorySample = {
      rss: 0,
      rss_anon: 0,
      rss_file: 0,
      heap_used: 0,
      heap_total: 0,
      external: 0,
      pending: 0,
      chdb_tracked: 0,
    };
    let atPeak = { ...peak };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = await sample(svc).catch(() => undefined);
        if (s) {
          if (s.rss > atPeak.rss) atPeak = s;
          for (const k of Object.keys(peak) as Array<keyof MemorySample>) peak[k] = Math.max(peak[k], s[k]);
        }
        await sleep(500);
      }
    })();
    let status503 = 0;
    const post = async (body: string) => {
      for (;;) {
        const r = await request(
          svc.baseUrl,
          'POST',
          '/v0/events?name=feature_events',
          svc.token,
          body,
          300_000,
        );
        if (r.status === 200 || r.status === 202) return;
        if (r.status !== 503) throw new Error(`ingest: ${r.status} ${r.body.slice(0, 200)}`);
        status503++;
        await sleep(250);
      }
    };
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
    sampling = false;
    await sampler;
    const after = await sample(svc);
    return {
      variant: v.name,
      events: EVENTS,
      load_eps: Math.round(EVENTS / ((t - t0) / 1000)),
      vm_hwm: Math.round(procStatus(svc.proc.pid as number).VmHWM ?? 0),
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

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function line(r: RunResult): string {
  const p = r.peak;
  const a = r.at_peak_rss;
  return `${r.variant}: ${r.load_eps} ev/s, VmHWM ${r.vm_hwm} MiB; peaks: anon ${p.rss_anon}, file ${p.rss_file}, heap used ${p.heap_used} / total ${p.heap_total}, external ${p.external}, pending ${p.pending}, chDB tracked ${p.chdb_tracked}; at peak RSS ${a.rss}: anon ${a.rss_anon}, heap total ${a.heap_total}, external ${a.external}, chDB ${a.chdb_tracked}; after ${r.after.rss}; 503s ${r.status503}`;
}

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
    return `| ${v.name} | ${m((r) => r.load_eps)} | ${m((r) => r.vm_hwm)} | ${m((r) => r.peak.rss_anon)} | ${m((r) => r.peak.rss_file)} | ${m((r) => r.peak.heap_total)} | ${m((r) => r.peak.external)} | ${m((r) => r.peak.pending)} | ${m((r) => r.peak.chdb_tracked)} | ${m((r) => r.after.rss)} |`;
  });
  process.stdout.write(
    [
      `${EVENTS.toLocaleString('en')} events, ${args.repeat} run(s) each, medians (MiB)`,
      '',
      '| variant | load ev/s | VmHWM | RssAnon peak | RssFile peak | heap total peak | external peak | spool pending peak | chDB MemoryTracking peak | RSS after |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...rows,
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
