/**
 * Pipe latency and throughput at one size: each pipe as served to 32 clients (result cache
 * on, varied parameters), and uncached at one client (the query's own time, which the
 * PostgreSQL baseline is compared with), beside the SELECT 1 floor measured just before.
 */
import type { Generator } from '../generate-events.js';
import { type FloorRun, measureFloor } from './floor.js';
import { closedLoop, type LatencyStats, log, pipeRequest, round2, type Service } from './lib.js';
import { ALL_PIPES, type AnyPipe, paramList } from './params.js';
import { PIPE_CLIENTS, type Timing } from './plan.js';

export interface PipeRun {
  /** 32 clients, as served (result cache on): what callers see. */
  load32: LatencyStats;
  /** Share of those calls answered from the result cache. */
  load32_cache_hit_ratio: number;
  /** 1 client, Cache-Control: no-cache: the query itself (compared with PostgreSQL). */
  serial: LatencyStats;
}

export interface PipesAtSize {
  pipes: Record<AnyPipe, PipeRun>;
  floor: FloorRun;
}

/** X-Cache outcomes (HIT, MISS, BYPASS) of one pipe's calls. */
type Outcomes = Record<string, number>;

/** One pipe call, its X-Cache outcome counted. */
async function pipeCall(
  svc: Service,
  pipe: AnyPipe,
  p: Record<string, string>,
  outcomes: Outcomes,
  cached = true,
): Promise<boolean> {
  const r = await pipeRequest(svc, pipe, p, cached);
  const outcome = String(r.headers['x-cache'] ?? 'none');
  outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  return r.status === 200;
}

/** The floor, then every pipe, on a service started with the floor pipe (floor.ts). */
export async function measurePipes(
  svc: Service,
  gen: Generator,
  endMs: number,
  size: number,
  t: Timing,
): Promise<PipesAtSize> {
  const floor = await measureFloor(svc, t);
  const pipes = {} as Record<AnyPipe, PipeRun>;
  for (const pipe of ALL_PIPES) {
    const params = paramList(pipe, gen, endMs, 50_000);
    const call = (i: number, outcomes: Outcomes, cached = true) =>
      pipeCall(svc, pipe, params[i] as Record<string, string>, outcomes, cached);
    // Warm up (first query compiles and fills caches); its outcomes are not counted.
    for (let i = 0; i < 5; i++) await call(i, {});
    const counts: Outcomes = {};
    const load32 = await closedLoop(PIPE_CLIENTS, t.loadSeconds * 1000, params.length, (i) =>
      call(i, counts),
    );
    const hitRatio = round2((counts.HIT ?? 0) / Math.max(1, load32.n + load32.errors));
    const serial = await closedLoop(1, t.serialSeconds * 1000, t.serialCalls, (i) => call(i, {}, false));
    log(
      `${pipe} @ ${size.toLocaleString('en')}: 32 clients p50 ${load32.p50} p95 ${load32.p95} p99 ${load32.p99} ms, ${load32.rps} req/s, ${load32.errors} errors, ${Math.round(hitRatio * 100)}% cache hits; 1 client uncached p50 ${serial.p50} p95 ${serial.p95} ms`,
    );
    pipes[pipe] = { load32, load32_cache_hit_ratio: hitRatio, serial };
  }
  return { pipes, floor };
}
