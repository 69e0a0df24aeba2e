import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, ndjson, type ServiceProcess, startServiceProcess } from './helpers/service.js';

// INGEST_MAX_INFLIGHT_BYTES through the real service: many concurrent large POSTs are read and
// parsed a few at a time, the bound holds (the service's own high-water mark on /metrics), and
// every row lands; a request that finds no room in time is answered 503 + Retry-After.
const MiB = 1024 * 1024;
const BOUND = 3 * MiB;
let svc: ServiceProcess;

beforeAll(async () => {
  svc = await startServiceProcess({
    env: {
      MAX_BODY_BYTES: String(MiB),
      INGEST_MAX_INFLIGHT_BYTES: String(BOUND),
      INGEST_ADMISSION_WAIT_MS: '2000',
      BATCH_MAX_WAIT_MS: '50',
    },
  });
});
afterAll(async () => {
  expect(await svc?.stop()).toBe(0);
});

const metric = async (name: string) => {
  const text = await (
    await fetch(`${svc.baseUrl}/metrics`, { headers: { Authorization: `Bearer ${svc.token}` } })
  ).text();
  const line = text.split('\n').find((l) => l.startsWith(`feature_events_${name} `));
  return Number(line?.split(' ')[1]);
};

const count = async (where: string) =>
  Number((await svc.sql<{ c: number }>(`SELECT count() AS c FROM feature_events WHERE ${where}`))[0]?.c);

/** Posts until accepted, backing off on 503 as Tinybird's clients do. */
async function postUntilAccepted(body: string): Promise<void> {
  for (;;) {
    const res = await fetch(`${svc.baseUrl}/v0/events?name=feature_events`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${svc.token}` },
      body,
    });
    const reply = await res.text();
    if (res.status === 202) return;
    expect(res.status, reply).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A chunked POST (counted at MAX_BODY_BYTES: its length is unknown) whose body stays open. */
function openUpload(rows: string) {
  const req = http.request(`${svc.baseUrl}/v0/events?name=feature_events`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${svc.token}`, 'Transfer-Encoding': 'chunked' },
  });
  const answered = new Promise<number>((resolve, reject) => {
    req.once('response', (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
  });
  req.write(`${rows}\n`);
  return { finish: () => req.end(), answered };
}

describe('ingest admission (INGEST_MAX_INFLIGHT_BYTES)', () => {
  it('reads many concurrent large bodies a few at a time, under the bound, and stores every row', async () => {
    const run = `adm_${Date.now()}`;
    // 16 bodies of ~0.9 MiB each, all sent at once: ~15 MiB against a 3 MiB bound.
    const bodies = Array.from({ length: 16 }, (_, b) =>
      ndjson(
        Array.from({ length: 3_000 }, (_, i) => event({ event_id: `${run}_${b}_${i}`, session_id: run })),
      ),
    );
    expect(bodies[0]?.length).toBeGreaterThan(0.8 * MiB);
    expect(bodies[0]?.length).toBeLessThan(MiB);
    await Promise.all(bodies.map(postUntilAccepted));
    const peak = await metric('ingest_inflight_peak_bytes');
    // The bound held, and it was reached: bodies waited for each other.
    expect(peak).toBeLessThanOrEqual(BOUND);
    expect(peak).toBeGreaterThan(2 * 0.8 * MiB);
    expect(await metric('ingest_inflight_bytes')).toBe(0);
    // Nothing lost, nothing doubled (a 503 ingested nothing, so its retry adds no duplicate).
    const deadline = Date.now() + 60_000;
    while ((await count(`session_id = '${run}'`)) < 16 * 3_000 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect(await count(`session_id = '${run}'`)).toBe(16 * 3_000);
    expect(await count(`session_id = '${run}' AND event_id LIKE '${run}_15_%'`)).toBe(3_000);
  });

  it('answers 503 + Retry-After when no room frees within INGEST_ADMISSION_WAIT_MS, and stores nothing of it', async () => {
    const run = `adm_wait_${Date.now()}`;
    // Three open chunked uploads hold 3 x MAX_BODY_BYTES = the whole bound.
    const open = [0, 1, 2].map((i) =>
      openUpload(JSON.stringify(event({ event_id: `${run}_open_${i}`, session_id: run }))),
    );
    const deadline = Date.now() + 20_000;
    while ((await metric('ingest_inflight_bytes')) < BOUND && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(await metric('ingest_inflight_bytes')).toBe(BOUND);

    const started = Date.now();
    const res = await fetch(`${svc.baseUrl}/v0/events?name=feature_events`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${svc.token}` },
      body: JSON.stringify(event({ event_id: `${run}_refused`, session_id: run })),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await res.json()).error).toMatch(/INGEST_MAX_INFLIGHT_BYTES/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);

    for (const u of open) u.finish();
    expect(await Promise.all(open.map((u) => u.answered))).toEqual([202, 202, 202]);
    const settle = Date.now() + 30_000;
    while ((await count(`session_id = '${run}'`)) < 3 && Date.now() < settle)
      await new Promise((r) => setTimeout(r, 100));
    expect(await count(`session_id = '${run}'`)).toBe(3);
    expect(await count(`event_id = '${run}_refused'`)).toBe(0);
  });
});
