/** Shared pieces of the benchmark: HTTP over keep-alive, load loops, percentiles, processes. */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { freePort, startServiceProcess } from '../../test/helpers/service.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const log = (msg: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const round2 = (x: number) => Math.round(x * 100) / 100;

// Shared with the tests: one way to find a port and to run the mock broker.
export { type MockKafka, startMockKafka } from '../../test/helpers/mock-kafka.js';
export { freePort };

// One connection pool per service. Idle sockets are closed after 2 s, before the server's
// 5 s keep-alive timeout can race a reuse.
const pools = new Map<string, Pool>();
const poolFor = (baseUrl: string): Pool => {
  let pool = pools.get(baseUrl);
  if (!pool) {
    pool = new Pool(baseUrl, { keepAliveTimeout: 2_000, keepAliveMaxTimeout: 2_000 });
    pools.set(baseUrl, pool);
  }
  return pool;
};

export interface HttpReply {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/**
 * One request over a keep-alive socket to 127.0.0.1. undici, not node:http or fetch: the
 * driver shares the 2 cores with the service, and undici costs it about half the CPU per
 * request of node:http (~80 vs ~160 µs, measured with 64 clients against a bare server).
 */
export async function request(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  token: string,
  body?: string | Buffer,
  timeoutMs = 60_000,
  extraHeaders: Record<string, string> = {},
): Promise<HttpReply> {
  const once = async (): Promise<HttpReply> => {
    const r = await poolFor(baseUrl).request({
      method,
      path,
      body,
      headers: { authorization: `Bearer ${token}`, ...extraHeaders },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    return { status: r.statusCode, body: await r.body.text(), headers: r.headers as IncomingHttpHeaders };
  };
  try {
    return await once();
  } catch (err) {
    // A kept-alive socket the server had already closed (e.g. while this process was busy
    // generating data and its idle timer could not run): the request never got an answer;
    // send it again, on a new connection.
    const code = (err as { code?: string }).code;
    if (code !== 'UND_ERR_SOCKET' && code !== 'ECONNRESET' && code !== 'EPIPE') throw err;
    return once();
  }
}

/** One GET of a pipe's JSON; cached=false sends Cache-Control: no-cache, so ClickHouse runs the query. */
export function pipeRequest(
  svc: Service,
  pipe: string,
  p: Record<string, string>,
  cached: boolean,
): Promise<HttpReply> {
  const query = Object.keys(p).length ? `?${new URLSearchParams(p)}` : '';
  return request(
    svc.baseUrl,
    'GET',
    `/v0/pipes/${pipe}.json${query}`,
    svc.token,
    undefined,
    30_000,
    cached ? {} : { 'Cache-Control': 'no-cache' },
  );
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] as number;
}

export interface LatencyStats {
  n: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  rps: number;
}

export function stats(latencies: number[], errors: number, elapsedMs: number): LatencyStats {
  const s = [...latencies].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    n: s.length,
    errors,
    p50: r(percentile(s, 50)),
    p95: r(percentile(s, 95)),
    p99: r(percentile(s, 99)),
    rps: Math.round((s.length / elapsedMs) * 1000),
  };
}

/**
 * `clients` loops each running `call(i)` back to back until `durationMs` passed or
 * `maxCalls` calls started. call() returns false for an error.
 */
export async function closedLoop(
  clients: number,
  durationMs: number,
  maxCalls: number,
  call: (i: number) => Promise<boolean>,
): Promise<LatencyStats> {
  const lat: number[] = [];
  let errors = 0;
  let started = 0;
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  const worker = async () => {
    while (started < maxCalls && performance.now() < deadline) {
      const i = started++;
      const s = performance.now();
      let ok = false;
      try {
        ok = await call(i);
      } catch {
        ok = false;
      }
      if (ok) lat.push(performance.now() - s);
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  return stats(lat, errors, performance.now() - t0);
}

/** Runs tasks with at most `limit` in flight. */
export async function pool<T>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** CPU seconds of this process, every thread (the driver, in the benches that measure it). */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * CPU seconds (user + system, every thread) a process has used, from /proc/<pid>/stat; NaN when
 * it is gone. Clock ticks are taken as Linux's USER_HZ, 100 on every mainstream build.
 */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" closing the command name: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Busy and total jiffies of the whole machine (/proc/stat's first line; idle and iowait are not busy). */
function machineJiffies(): [number, number] {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return [total - (f[3] ?? 0) - (f[4] ?? 0), total];
}

/** Where a measured span's CPU went: the service's and this driver's per event, and everyone else's. */
export interface CpuSpan {
  /** Service CPU (all its threads, chDB's included) per event, µs: what the code costs, whatever the load. */
  service_us: number;
  /** This process's (the driver's) CPU per event, µs. */
  driver_us: number;
  /** Share of the machine's CPU that was busy during the span, %. */
  machine_busy_pct: number;
  /** Share of the machine's CPU used by neither the service nor the driver (other sessions), %. */
  others_pct: number;
}

/**
 * Starts watching a service's CPU and the machine's; the returned function ends the span. A
 * rate that drops while service_us holds and others_pct rises is the machine, not the code.
 */
export function cpuSpan(pid: number | undefined): (events: number) => CpuSpan {
  const [s0, d0, [b0, t0]] = [cpuSeconds(pid), ownCpuSeconds(), machineJiffies()];
  return (events) => {
    const [s1, d1, [b1, t1]] = [cpuSeconds(pid), ownCpuSeconds(), machineJiffies()];
    // Jiffies are USER_HZ (100/s) summed over every CPU, as cpuSeconds' ticks are.
    const total = (t1 - t0) / 100;
    const pct = (x: number) => Math.round((x / total) * 1000) / 10;
    return {
      service_us: Math.round(((s1 - s0) / events) * 1e6),
      driver_us: Math.round(((d1 - d0) / events) * 1e6),
      machine_busy_pct: pct((b1 - b0) / 100),
      others_pct: pct(Math.max(0, (b1 - b0) / 100 - (s1 - s0) - (d1 - d0))),
    };
  };
}

/** A memory line of /proc/<pid>/status (kB there), in MiB; NaN when the process is gone. */
function statusMb(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number {
  if (!pid) return Number.NaN;
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(
      new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm'),
    );
    return m ? Math.round(Number(m[1]) / 1024) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Peak resident set (VmHWM) of a process, in MiB; NaN when it is gone. */
export const peakRssMb = (pid: number | undefined) => statusMb(pid, 'VmHWM');
/** Resident set now (VmRSS), in MiB. */
export const currentRssMb = (pid: number | undefined) => statusMb(pid, 'VmRSS');

// ---- the service under test ----

export interface Service {
  baseUrl: string;
  token: string;
  dataDir: string;
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
  sql<T = Record<string, unknown>>(query: string): Promise<T[]>;
  count(): Promise<number>;
}

/** The tests' launcher (test/helpers/service.ts), plus a row count and a bounded stop. */
export async function startService(
  dataDir: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
  /** The checkout to run (scripts/bench/read-path.ts runs an older one beside this one). */
  root = ROOT,
): Promise<Service> {
  const svc = await startServiceProcess({
    root,
    dataDir,
    port: await freePort(),
    env: { TB_ADMIN_TOKEN: `p.bench_${Math.random().toString(36).slice(2)}`, ...env },
    nodeArgs,
    readyTimeoutMs: 90_000,
  });
  return {
    baseUrl: svc.baseUrl,
    token: svc.token,
    dataDir,
    proc: svc.proc,
    output: svc.output,
    async stop() {
      if (svc.proc.exitCode !== null || svc.proc.signalCode !== null) return;
      const t = setTimeout(() => svc.proc.kill('SIGKILL'), 30_000);
      await svc.stop();
      clearTimeout(t);
    },
    sql: svc.sql,
    async count() {
      const rows = await svc.sql<{ c: string }>('SELECT count() AS c FROM feature_events');
      return Number(rows[0]?.c ?? 0);
    },
  };
}

/** Polls count() until it reaches `target`; returns the time it was first seen (performance.now()). */
export async function waitForCount(svc: Service, target: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const c = await svc.count();
    if (c >= target) return performance.now();
    if (performance.now() > deadline)
      throw new Error(`only ${c} of ${target} rows queryable after ${timeoutMs} ms`);
    await sleep(25);
  }
}

// ---- librdkafka's mock broker (scripts/mock-kafka) ----
