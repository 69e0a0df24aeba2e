/**
 * node --import tsx scripts/bench/singles-cost.ts [--n 8000] [--rounds 3] [--variants a;b;...] [--service]
 *   [--prof DIR]  (each harness process writes a CPU profile to DIR)
 *   [--rate R]    (send at most R requests per second: every variant at the same rate)
 *
 * What one single-event request (one JSON object per POST, SINGLE_CONCURRENCY in flight, the
 * bench's undici driver) costs, piece by piece: each variant is scripts/bench/singles-server.ts
 * with some pieces of the write path mounted; `bare` (Hono + @hono/node-server) is the
 * ceiling. Variants run in turn, rotated each round, and each is reported as the median of
 * its rounds and as a ratio to the ceiling's median. With --service the whole service
 * (embedded mode, ClickHouse inserts) runs too, measured until the rows are queryable, as
 * the full bench's single_eps is; a variant `service:<checkout>` runs another checkout's
 * service (e.g. the commit before a change) in the same rotation, and `service@NAME=value&...`
 * runs it with those settings. Reported per variant: ev/s, service and driver CPU per request.
 *
 * On a machine shared with other work the closed loop's rate follows the machine's load, and
 * the service's CPU per event follows the rate (a 200 ms batch of fewer rows costs more per
 * row to insert). --rate paces every variant to the same rate, below what each sustains, so
 * their CPU per event compares like with like.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeGenerator } from '../generate-events.js';
import { postBatch, SINGLE_CONCURRENCY } from './ingest.js';
import {
  cpuSeconds,
  log,
  ownCpuSeconds,
  pool,
  ROOT,
  type Service,
  sleep,
  startService,
  waitForCount,
} from './lib.js';
import { type Harness, startHarness } from './singles-harness.js';

const TOKEN = 'p.singles_cost_admin';
const ALL = 'reqlog,cors,ratelimit,size,auth,body,parse,pii,metrics,spool,wait';
const without = (p: string) =>
  ALL.split(',')
    .filter((x) => x !== p)
    .join(',');
const DEFAULT_VARIANTS = [
  'bare',
  'app',
  ALL,
  ...['reqlog', 'cors', 'ratelimit', 'size', 'auth', 'pii', 'metrics', 'wait'].map(without),
  'reqlog,cors,ratelimit,size,auth,body,parse,pii,metrics',
  'reqlog,cors,ratelimit,size,auth,body',
  'reqlog,cors,ratelimit,size,auth',
].join(';');

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '8000' },
    rounds: { type: 'string', default: '3' },
    variants: { type: 'string', default: DEFAULT_VARIANTS },
    service: { type: 'boolean', default: false },
    prof: { type: 'string' },
    rate: { type: 'string' },
  },
});
const N = Number(args.n);
const RATE = args.rate ? Number(args.rate) : 0;

/** The driver's pool, paced to RATE requests/s from the first one when --rate is given. */
async function send(t: Harness, todo: string[]): Promise<void> {
  const t0 = performance.now();
  await pool(todo, SINGLE_CONCURRENCY, async (b, i) => {
    const due = t0 + (i * 1000) / RATE - performance.now();
    if (RATE > 0 && due > 0) await sleep(due);
    await postBatch(t.svc, b);
  });
}
const variants = (args.variants as string).split(';');
if (args.service) variants.push('service');

/** The whole service; `root` another checkout (an older commit, to compare in one session). */
async function startFull(dir: string, root = ROOT, env: Record<string, string> = {}): Promise<Harness> {
  const svc = await startService(dir, env, [], root);
  return { svc, stop: () => svc.stop() };
}

const gen = makeGenerator({ seed: 7, plannedRows: N * 50, endMs: Date.UTC(2025, 0, 1) });
const bodies = () => Array.from({ length: N }, () => JSON.stringify(gen.next()));

interface Run {
  eps: number;
  serverUs: number;
  driverUs: number;
  /** Until the last reply (acknowledged, durable), before the rows are queryable. */
  ackEps: number;
  ackServerUs: number;
}

async function measure(spec: string, dir: string): Promise<Run> {
  const full = /^service(:|@|$)/.test(spec);
  // service[:<checkout>][@NAME=value&NAME=value]
  const [where, settings = ''] = spec.split('@') as [string, string?];
  const env = Object.fromEntries(
    settings
      .split('&')
      .filter(Boolean)
      // On the first '=' only: a value may hold one (NODE_OPTIONS=--max-old-space-size=384).
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  const t = full
    ? await startFull(dir, where.slice('service:'.length) || ROOT, env)
    : await startHarness(spec, dir, TOKEN, args.prof);
  try {
    await send(t, bodies().slice(0, 2_000)); // warm-up: JIT
    const before = full ? await t.svc.count() : 0;
    const todo = bodies();
    const pid = t.svc.proc.pid as number;
    const [s0, d0, t0] = [cpuSeconds(pid), ownCpuSeconds(), performance.now()];
    await send(t, todo);
    const [sAck, tAck] = [cpuSeconds(pid), performance.now()];
    const end = full ? await waitForCount(t.svc, before + N, 120_000) : performance.now();
    // Until queryable for the service: its inserts are part of what a single event costs.
    const [s1, d1] = [cpuSeconds(pid), ownCpuSeconds()];
    return {
      eps: Math.round(N / ((end - t0) / 1000)),
      serverUs: Math.round(((s1 - s0) / N) * 1e6),
      driverUs: Math.round(((d1 - d0) / N) * 1e6),
      ackEps: Math.round(N / ((tAck - t0) / 1000)),
      ackServerUs: Math.round(((sAck - s0) / N) * 1e6),
    };
  } finally {
    await t.stop();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const base = mkdtempSync(join(tmpdir(), 'singles-cost-'));
const runs = new Map<string, Run[]>(variants.map((v) => [v, []]));
try {
  for (let r = 0; r < Number(args.rounds); r++) {
    const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
    for (const v of order) {
      const dir = join(base, `r${r}-${variants.indexOf(v)}`);
      mkdirSync(dir, { recursive: true });
      const run = await measure(v, dir);
      runs.get(v)!.push(run);
      log(
        `round ${r + 1} ${v}: ${run.eps} ev/s, service ${run.serverUs} µs/req, driver ${run.driverUs} µs/req; acked ${run.ackEps} ev/s, service ${run.ackServerUs} µs/req`,
      );
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
const ceiling = median(runs.get(variants[0]!)!.map((x) => x.eps));
const out: Record<
  string,
  {
    eps: number;
    ratio: number;
    service_us: number;
    driver_us: number;
    ack_eps: number;
    ack_service_us: number;
  }
> = {};
for (const [v, rs] of runs) {
  const eps = median(rs.map((x) => x.eps));
  out[v] = {
    eps,
    ratio: Math.round((eps / ceiling) * 100) / 100,
    service_us: median(rs.map((x) => x.serverUs)),
    driver_us: median(rs.map((x) => x.driverUs)),
    ack_eps: median(rs.map((x) => x.ackEps)),
    ack_service_us: median(rs.map((x) => x.ackServerUs)),
  };
  log(
    `${v.padEnd(70)} ${String(eps).padStart(6)} ev/s  ${out[v].ratio.toFixed(2)}x  service ${out[v].service_us} µs  driver ${out[v].driver_us} µs  acked ${out[v].ack_eps} ev/s ${out[v].ack_service_us} µs`,
  );
}
process.stdout.write(`${JSON.stringify(out)}\n`);
