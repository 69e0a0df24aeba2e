/**
 * The read path's floor and memory, shared by the full bench (embedded.ts) and read-path.ts:
 * a `SELECT 1` pipe served through the same route, render, cache and JSON output as every
 * pipe (so a pipe's figure reads as a multiple of it), and chDB's own account of its memory.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedLoop, type LatencyStats, log, pipeRequest, request, type Service } from './lib.js';
import { PIPE_CLIENTS, type Timing } from './plan.js';

export const FLOOR_PIPE = 'read_floor';
const FLOOR_FILE = `DESCRIPTION >\n    SELECT 1 through the pipes route: the per-query floor.\n\nNODE one\nSQL >\n    SELECT 1 AS one\n\nTYPE endpoint\n`;

/** The checkout's pipes plus the floor pipe, in a temporary directory for PROJECT_DIR. */
export function pipesWithFloor(root: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-pipes-'));
  cpSync(join(root, 'pipes'), dir, { recursive: true });
  writeFileSync(join(dir, `${FLOOR_PIPE}.pipe`), FLOOR_FILE);
  return dir;
}

/** The per-query floor at one size: SELECT 1 as a pipe, through the same route as every pipe. */
export interface FloorRun {
  /** 1 client, no-cache: every call a chDB query. */
  serial: LatencyStats;
  /** 32 clients, as served (all cache hits): the HTTP, auth and cache path alone. */
  load32: LatencyStats;
  /** 32 clients, no-cache: every call a query; no pipe that misses the cache can serve more. */
  load32_uncached: LatencyStats;
  /** /v0/sql SELECT 1 at 32 clients (its guard parses each text too). */
  sql32: LatencyStats;
}

/** Measures the floor on a service started with PROJECT_DIR = pipesWithFloor(...). */
export async function measureFloor(svc: Service, t: Timing): Promise<FloorRun> {
  const call = floorCall(svc);
  for (let i = 0; i < 5; i++) await call(false)();
  const serial = await closedLoop(1, t.serialSeconds * 1000, t.serialCalls, call(false));
  const load32 = await closedLoop(PIPE_CLIENTS, t.loadSeconds * 1000, 1e9, call(true));
  const { load32_uncached, sql32 } = await measureFloorQueries(svc, t.loadSeconds);
  log(
    `floor (SELECT 1 pipe): 1 client uncached p50 ${serial.p50} p95 ${serial.p95} ms; 32 clients ${load32.rps} req/s served, ${load32_uncached.rps} req/s as queries (p95 ${load32_uncached.p95} ms); /v0/sql ${sql32.rps} req/s`,
  );
  return { serial, load32, load32_uncached, sql32 };
}

const floorCall = (svc: Service) => (cached: boolean) => async () =>
  (await pipeRequest(svc, FLOOR_PIPE, {}, cached)).status === 200;

/** The floor at 32 clients with every call a query: as a pipe (no-cache), and /v0/sql's SELECT 1. */
export async function measureFloorQueries(
  svc: Service,
  seconds: number,
): Promise<Pick<FloorRun, 'load32_uncached' | 'sql32'>> {
  const load32_uncached = await closedLoop(PIPE_CLIENTS, seconds * 1000, 1e9, floorCall(svc)(false));
  const sql32 = await closedLoop(PIPE_CLIENTS, seconds * 1000, 1e9, async () => {
    const r = await request(svc.baseUrl, 'POST', '/v0/sql', svc.token, 'SELECT 1 FORMAT JSON');
    return r.status === 200;
  });
  return { load32_uncached, sql32 };
}
