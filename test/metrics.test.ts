import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCountersMoveByLoad } from './helpers/metrics-load.js';
import { waitFor } from './helpers/mock-kafka.js';
import { scrape, sumOf } from './helpers/prometheus.js';
import { freePort, type ServiceProcess, startServiceProcess } from './helpers/service.js';

// The service process in embedded mode, with a scrape token, METRICS_PORT, access logs on
// (LOG_LEVEL=info) and one insert in two failing (retried, deduplicated by its token).
const SCRAPE_TOKEN = 'prometheus-scrape-token-1';
let svc: ServiceProcess;
let metricsPort: number;

beforeAll(async () => {
  metricsPort = await freePort();
  svc = await startServiceProcess({
    env: {
      TB_TOKENS: `prometheus:${SCRAPE_TOKEN}:METRICS:READ`,
      METRICS_PORT: String(metricsPort),
      METRICS_CACHE_SECONDS: '1',
      LOG_LEVEL: 'info',
      // Its seeded pick fails the first insert (see fault-injection.ts): at least one failure, every run.
      FAULT_INSERT_FAIL_EVERY: '2',
      BATCH_MAX_WAIT_MS: '50',
    },
  });
});
afterAll(async () => {
  expect(await svc?.stop()).toBe(0);
});

const listener = () => `http://127.0.0.1:${metricsPort}/metrics`;

describe('metrics of the running service (embedded)', () => {
  it('move by exactly the rows sent and quarantined, though inserts fail and are retried', async () => {
    const { moved } = await expectCountersMoveByLoad(svc, listener(), 'mx');
    // FAULT_INSERT_FAIL_EVERY made some attempts fail; each failure was retried, nothing counted twice.
    const failures = moved('feature_events_insert_failures_total');
    expect(failures).toBeGreaterThan(0);
    expect(moved('feature_events_insert_retries_total')).toBe(failures);
    expect(moved('feature_events_insert_duration_seconds_count', { result: 'error' })).toBe(failures);
    // The spool lets go of its bytes after the insert is counted (its checkpoint): wait for it.
    let samples = await scrape(listener());
    await waitFor(
      async () => {
        samples = await scrape(listener());
        return sumOf(samples, 'feature_events_queue_pending_bytes', { queue: 'spool' }) === 0;
      },
      'the spool to be empty',
      10_000,
    );
    expect(sumOf(samples, 'feature_events_queue_pending_bytes', { queue: 'spool' })).toBe(0);
    expect(sumOf(samples, 'feature_events_queue_max_pending_bytes', { queue: 'spool' })).toBeGreaterThan(0);
  });

  it('report the rows of each table from system.parts', async () => {
    const [row] = await svc.sql<{ c: string }>('SELECT count() AS c FROM feature_events');
    const expected = Number(row?.c);
    expect(expected).toBeGreaterThan(0);
    // Cached for METRICS_CACHE_SECONDS (1 s here): a later scrape sees the current count.
    await waitFor(
      async () =>
        sumOf(await scrape(listener()), 'feature_events_table_rows', { table: 'feature_events' }) ===
        expected,
      'table_rows to match count()',
    );
    const samples = await scrape(listener());
    expect(sumOf(samples, 'feature_events_table_parts', { table: 'feature_events' })).toBeGreaterThan(0);
    expect(
      sumOf(samples, 'feature_events_table_bytes', { table: 'feature_events_quarantine' }),
    ).toBeGreaterThan(0);
  });

  it('count pipe requests by pipe, status and cache outcome', async () => {
    const url = `${svc.baseUrl}/v0/pipes/feature_usage_summary.json?token=${svc.token}&feature_id=metrics_test`;
    const before = await scrape(listener());
    expect((await fetch(url)).headers.get('X-Cache')).toBe('MISS');
    expect((await fetch(url)).headers.get('X-Cache')).toBe('HIT');
    expect((await fetch(url, { headers: { 'Cache-Control': 'no-cache' } })).headers.get('X-Cache')).toBe(
      'BYPASS',
    );
    expect((await fetch(`${svc.baseUrl}/v0/pipes/no_such_pipe.json?token=${svc.token}`)).status).toBe(404);
    const after = await scrape(listener());
    const moved = (labels: Record<string, string>) =>
      sumOf(after, 'feature_events_pipe_requests_total', labels) -
      sumOf(before, 'feature_events_pipe_requests_total', labels);
    const pipe = 'feature_usage_summary';
    expect(moved({ pipe, status: '200', cache: 'miss' })).toBe(1);
    expect(moved({ pipe, status: '200', cache: 'hit' })).toBe(1);
    expect(moved({ pipe, status: '200', cache: 'bypass' })).toBe(1);
    expect(moved({ pipe: 'unknown', status: '404' })).toBe(1);
    expect(
      sumOf(after, 'feature_events_pipe_duration_seconds_count', { pipe, cache: 'hit' }) -
        sumOf(before, 'feature_events_pipe_duration_seconds_count', { pipe, cache: 'hit' }),
    ).toBe(1);
  });

  it('serve /metrics on the API port to METRICS:READ tokens only, and on METRICS_PORT to anyone', async () => {
    expect((await fetch(`${svc.baseUrl}/metrics`)).status).toBe(401);
    const samples = await scrape(`${svc.baseUrl}/metrics`, SCRAPE_TOKEN);
    expect(sumOf(samples, 'feature_events_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(samples.some((s) => s.name === 'feature_events_nodejs_eventloop_lag_seconds')).toBe(true);
    expect((await fetch(listener())).status).toBe(200);
  });

  it('write one access line per request with the request id it answers, and never a token', async () => {
    const res = await fetch(`${svc.baseUrl}/v0/pipes/feature_usage_summary.json?token=${svc.token}`, {
      headers: { 'X-Request-Id': 'metrics-test-req-1' },
    });
    expect(res.headers.get('X-Request-Id')).toBe('metrics-test-req-1');
    const line = await waitFor(
      () =>
        svc
          .output()
          .split('\n')
          .find((l) => l.includes('"request_id":"metrics-test-req-1"')),
      'the access line',
    );
    expect(JSON.parse(line as string)).toMatchObject({
      msg: 'request',
      method: 'GET',
      route: '/v0/pipes/*',
      status: 200,
      url: '/v0/pipes/feature_usage_summary.json?token=[redacted]',
    });
    // The startup banner prints the admin token on purpose (stdout, not a log line); no JSON line has it.
    const logLines = svc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    expect(logLines.length).toBeGreaterThan(10);
    for (const l of logLines) {
      expect(l).not.toContain(svc.token);
      expect(l).not.toContain(SCRAPE_TOKEN);
    }
  });
});
