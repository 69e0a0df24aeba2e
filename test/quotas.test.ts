import { afterAll, describe, expect, it } from 'vitest';
import { event, ndjson, type ServiceProcess, startServiceProcess } from './helpers/service.js';

// Daily quotas per token (seed 002), hard mode: exact counts under concurrent requests,
// 429 + Retry-After past the limit, the same counts after a restart.

const TOKEN = 'quota-token-0123456789';
const BUSY = 'busy-token-0123456789';
const running: ServiceProcess[] = [];
afterAll(async () => {
  for (const s of running) await s.stop();
});

async function start(dataDir?: string) {
  const s = await startServiceProcess({
    dataDir,
    env: {
      TB_TOKENS: `limited:${TOKEN}:PIPES:READ:kpis,DATASOURCES:APPEND:feature_events;busy:${BUSY}:PIPES:READ:kpis`,
      QUOTA_DEFAULTS: '{"pipe_requests_daily": 3, "rows_ingested_daily": 10}',
      QUOTA_LIMITS: '{"busy": {"pipe_requests_daily": 10}}',
      QUOTA_MODE: 'hard',
    },
  });
  running.push(s);
  return s;
}

describe('quotas', () => {
  it('counts pipe requests and rows per token per day, refuses past the limit, and keeps counts across a restart', async () => {
    let svc = await start();
    const get = (path: string, token: string) =>
      fetch(`${svc.baseUrl}${path}`, { headers: { Authorization: `Bearer ${token}` } });
    for (let i = 0; i < 3; i++) expect((await get('/v0/pipes/kpis.json', TOKEN)).status).toBe(200);
    const refused = await get('/v0/pipes/kpis.json', TOKEN);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(86_400);

    // 25 at once against a limit of 10: exactly 10 answered, none lost from the count.
    const statuses = await Promise.all(Array.from({ length: 25 }, () => get('/v0/pipes/kpis.json', BUSY)));
    expect(statuses.filter((r) => r.status === 200).length).toBe(10);
    expect(statuses.filter((r) => r.status === 429).length).toBe(15);

    const post = (n: number) =>
      fetch(`${svc.baseUrl}/v0/events?name=feature_events&wait=true`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}` },
        body: ndjson(Array.from({ length: n }, () => event())),
      });
    expect((await post(6)).status).toBe(200);
    expect((await post(6)).status).toBe(200); // crosses the limit: answered, counted
    expect((await post(1)).status).toBe(429);

    const quotas = async (token: string) => (await get('/v0/quotas', token)).json();
    const expected = {
      pipe_requests_daily: { exceeded: true, current: 3, limit: 3 },
      rows_ingested_daily: { exceeded: true, current: 12, limit: 10 },
    };
    expect(await quotas(TOKEN)).toEqual(expected);
    expect(await quotas(svc.token)).toEqual({
      pipe_requests_daily: { exceeded: false, current: 0, limit: null },
      rows_ingested_daily: { exceeded: false, current: 0, limit: null },
    });
    await svc.kill(); // SIGKILL: the counts are on disk before each answer
    svc = await start(svc.dataDir);
    expect(await quotas(TOKEN)).toEqual(expected);
    expect(((await quotas(BUSY)) as { pipe_requests_daily: unknown }).pipe_requests_daily).toEqual({
      exceeded: true,
      current: 10,
      limit: 10,
    });
  });
});
