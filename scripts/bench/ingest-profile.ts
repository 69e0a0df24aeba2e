/**
 * node --import tsx scripts/bench/ingest-profile.ts [--rows 200000] [--singles 10000] [--prof DIR] [--root DIR]
 *
 * HTTP ingest in embedded mode only, end to end until the rows are queryable:
 *  (a) NDJSON batches of 1,000 rows, 4 in flight;
 *  (b) single-event requests (one JSON object per POST), 64 keep-alive clients.
 * With --prof DIR the service runs under `node --cpu-prof` and writes its profile to DIR
 * when it stops. With --root DIR the service of another checkout runs (e.g. a `git archive` of an
 * older commit, for a before/after in one session). A fresh data directory per run; all traffic
 * on 127.0.0.1. Prints ev/s of each phase and the service's CPU per event (all its threads).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeGenerator } from '../generate-events.js';
import { postBatch } from './ingest.js';
import { cpuSpan, log, pool, type Service, startService, waitForCount } from './lib.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    singles: { type: 'string', default: '10000' },
    prof: { type: 'string' },
    only: { type: 'string' },
    root: { type: 'string' },
  },
});
const ROWS = Number(args.rows);
const SINGLES = Number(args.singles);
const BATCH_ROWS = 1_000;
const BATCH_CONCURRENCY = 4;
const SINGLE_CONCURRENCY = 64;
const END_MS = Date.UTC(2025, 0, 1);

async function ndjson(svc: Service): Promise<number> {
  const gen = makeGenerator({ seed: 11, plannedRows: ROWS, endMs: END_MS });
  const batches: Buffer[] = [];
  for (let done = 0; done < ROWS; done += BATCH_ROWS) batches.push(Buffer.from(gen.ndjson(BATCH_ROWS)));
  const before = await svc.count();
  const t0 = performance.now();
  await pool(batches, BATCH_CONCURRENCY, (b) => postBatch(svc, b));
  const tAcked = performance.now();
  const t = await waitForCount(svc, before + ROWS, 300_000);
  const eps = Math.round(ROWS / ((t - t0) / 1000));
  log(
    `ndjson ${BATCH_ROWS}x${BATCH_CONCURRENCY}: ${eps} ev/s until queryable (acked ${((tAcked - t0) / 1000).toFixed(2)} s, queryable ${((t - t0) / 1000).toFixed(2)} s)`,
  );
  return eps;
}

async function singles(svc: Service): Promise<number> {
  const gen = makeGenerator({ seed: 7, plannedRows: SINGLES, endMs: END_MS });
  const bodies = Array.from({ length: SINGLES }, () => JSON.stringify(gen.next()));
  const before = await svc.count();
  const t0 = performance.now();
  await pool(bodies, SINGLE_CONCURRENCY, (b) => postBatch(svc, b));
  const tAcked = performance.now();
  const t = await waitForCount(svc, before + SINGLES, 120_000);
  const eps = Math.round(SINGLES / ((t - t0) / 1000));
  log(
    `singles x${SINGLE_CONCURRENCY}: ${eps} ev/s until queryable (acked ${((tAcked - t0) / 1000).toFixed(2)} s, queryable ${((t - t0) / 1000).toFixed(2)} s)`,
  );
  return eps;
}

/** CPU seconds per thread name of a process (from /proc), to see where the cores went. */
function threadCpu(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm =
        tid === String(pid)
          ? 'main'
          : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[0-9]+$/, '');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[comm] = (out[comm] ?? 0) + (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      // thread ended
    }
  }
  return out;
}

function cpuDelta(a: Record<string, number>, b: Record<string, number>): string {
  return Object.entries(b)
    .map(([k, v]) => [k, v - (a[k] ?? 0)] as const)
    .filter(([, v]) => v >= 0.05)
    .sort((x, y) => y[1] - x[1])
    .map(([k, v]) => `${k}=${v.toFixed(2)}s`)
    .join(' ');
}

const dataDir = mkdtempSync(join(tmpdir(), 'ingest-profile-'));
// SERVICE_ENV='{"BATCH_MAX_WAIT_MS":"500"}' passes settings to the service.
const serviceEnv = JSON.parse(process.env.SERVICE_ENV ?? '{}') as Record<string, string>;
const svc = await startService(
  dataDir,
  serviceEnv,
  args.prof ? ['--cpu-prof', `--cpu-prof-dir=${args.prof}`] : [],
  args.root,
);
try {
  // Warm-up: JIT, first parts, first fsyncs.
  const warm = makeGenerator({ seed: 3, plannedRows: 2_000, endMs: END_MS });
  await postBatch(svc, warm.ndjson(2_000));
  await waitForCount(svc, 2_000, 30_000);
  const result: Record<string, number> = {};
  const pid = svc.proc.pid as number;
  if (args.only !== 'singles') {
    const [c0, span] = [threadCpu(pid), cpuSpan(pid)];
    result.ndjson_eps = await ndjson(svc);
    const cpu = span(ROWS);
    result.ndjson_service_us = cpu.service_us;
    log(`  service CPU by thread: ${cpuDelta(c0, threadCpu(pid))}; ${JSON.stringify(cpu)}`);
  }
  if (args.only !== 'ndjson') {
    const [c0, span] = [threadCpu(pid), cpuSpan(pid)];
    result.single_eps = await singles(svc);
    const cpu = span(SINGLES);
    result.single_service_us = cpu.service_us;
    log(`  service CPU by thread: ${cpuDelta(c0, threadCpu(pid))}; ${JSON.stringify(cpu)}`);
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await svc.stop();
  if (process.env.DUMP_OUTPUT) process.stderr.write(svc.output());
  rmSync(dataDir, { recursive: true, force: true });
}
