import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envSchema } from '../../src/config/env.js';
import { CHDB_MALLOC_CONF } from '../../src/service/chdb-allocator.js';
import { DEFAULT_MAX_OLD_SPACE_MB } from '../../src/service/heap-budget.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// Below Linux's ephemeral range (32768-60999): a port the OS hands out for port 0 is also
// what outgoing connections take, so between our check and the child's listen another
// test's client could take it (EADDRINUSE in a fresh-clone run).
const DEFAULT_PORTS = '20000-32767';

// Ports this process already handed out: a test asking twice before its child listens (an
// API port and a METRICS_PORT) must not get the same port back.
const handedOut = new Set<number>();

/** A free port, from TEST_PORTS (e.g. 7400-7499) on a machine shared with others. */
export async function freePort(): Promise<number> {
  const range = (process.env.TEST_PORTS ?? DEFAULT_PORTS).match(/^(\d+)-(\d+)$/);
  if (!range) throw new Error(`TEST_PORTS must be <low>-<high>, got ${process.env.TEST_PORTS}`);
  const [low, high] = [Number(range[1]), Number(range[2])];
  const first = low + Math.floor(Math.random() * (high - low + 1));
  for (let i = 0; i <= high - low; i++) {
    const port = low + ((first - low + i) % (high - low + 1));
    if (handedOut.has(port)) continue;
    const got = await listenOn(port).catch(() => undefined);
    if (got) {
      handedOut.add(got);
      return got;
    }
  }
  throw new Error(`no free port in TEST_PORTS=${process.env.TEST_PORTS}`);
}

function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(port, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.once('error', reject);
  });
}

export interface ServiceProcess {
  baseUrl: string;
  token: string;
  dataDir: string;
  proc: ChildProcess;
  output: () => string;
  /** Graceful stop (SIGTERM); resolves to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, no chance to flush. */
  kill(): Promise<void>;
  /** Read-only SQL through /v0/sql, rows as objects. */
  sql<T = Record<string, unknown>>(query: string): Promise<T[]>;
}

// The service's settings in the shell that runs the tests are not the tests': the README's first
// steps leave TB_ADMIN_TOKEN exported, and with it inherited every service started here skipped
// writing its admin-token file. Each test passes the settings it means (opts.env).
const SERVICE_SETTINGS = new Set(Object.keys(envSchema.shape));
const inheritedEnv = () =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !SERVICE_SETTINGS.has(k)));

/**
 * Starts `src/main.ts` as a real process (the public surface) and waits until it is ready.
 * The one launcher of the tests and the benchmarks (scripts/bench/lib.ts wraps it).
 */
export async function startServiceProcess(
  opts: {
    dataDir?: string;
    env?: Record<string, string>;
    port?: number;
    /** Node flags before the entry point, e.g. --cpu-prof. */
    nodeArgs?: string[];
    /** The checkout to run (default this one; the read-path bench runs an older one beside it). */
    root?: string;
    readyTimeoutMs?: number;
  } = {},
): Promise<ServiceProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'fe-test-'));
  const port = opts.port ?? (await freePort());
  // node --import tsx: one process, so SIGKILL hits the server itself (the tsx CLI forks a child).
  // Under vitest the same sources prebuilt to JavaScript (test/global-setup.ts): a start
  // without tsx's module hooks takes about half as long.
  const built = opts.root === undefined ? process.env.SERVICE_ENTRY_JS : undefined;
  const entry = built ? ['--enable-source-maps', built] : ['--import', 'tsx', 'src/main.ts'];
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...entry], {
    cwd: opts.root ?? ROOT,
    env: {
      ...inheritedEnv(),
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      // Test fixtures carry fixed historical timestamps (the seed's 2023 event); with the default
      // 90-day retention their raw rows would expire as soon as they are stored. Retention has
      // its own tests (test/retention-*.test.ts); a test that wants it sets it.
      RAW_RETENTION_DAYS: '0',
      // The heap limit npm start gives the service, so tests and benches run what users run.
      NODE_OPTIONS:
        `--max-old-space-size=${DEFAULT_MAX_OLD_SPACE_MB} ${process.env.NODE_OPTIONS ?? ''}`.trim(),
      // chDB's jemalloc options, as npm start gives them (src/service/chdb-allocator.ts).
      JE_MALLOC_CONF: [CHDB_MALLOC_CONF, process.env.JE_MALLOC_CONF].filter(Boolean).join(','),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Kept bounded: a benchmark's service logs for an hour.
  let out = '';
  const keep = (d: Buffer) => {
    out += d;
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const baseUrl = `http://127.0.0.1:${port}`;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`service exited with ${proc.exitCode}:\n${out}`);
    try {
      const res = await fetch(`${baseUrl}/v0/ready`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`service not ready after ${readyTimeoutMs / 1000} s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  let token: string;
  try {
    token = opts.env?.TB_ADMIN_TOKEN ?? readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  } catch (err) {
    // Ready but unusable: not left running for the rest of the suite (no caller holds it).
    proc.kill('SIGKILL');
    throw err;
  }
  return {
    baseUrl,
    token,
    dataDir,
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
    async sql<T>(query: string): Promise<T[]> {
      const res = await fetch(`${baseUrl}/v0/sql`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain' },
        body: `${query} FORMAT JSON`,
      });
      const body = await res.text();
      if (res.status !== 200) throw new Error(`SQL failed (${res.status}): ${body}`);
      return (JSON.parse(body) as { data: T[] }).data;
    },
  };
}

/** A valid feature_events row; override any field. */
export function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: `evt_${Math.random().toString(36).slice(2)}`,
    user_id: 'usr_789',
    feature_id: 'feature_recommendations',
    product_version: '2.4.1',
    event_type: 'feature_used',
    timestamp: '2023-10-15 14:35:22',
    session_id: 'sess_456',
    metadata: '{"duration_seconds":45,"result":"success"}',
    ...overrides,
  };
}

export const ndjson = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n');

/** POST rows to the Events API with the admin token; `query` is added to ?name=feature_events. */
export function postEvents(svc: ServiceProcess, body: BodyInit, query = '&wait=true') {
  return fetch(`${svc.baseUrl}/v0/events?name=feature_events${query}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${svc.token}` },
    body,
  });
}
