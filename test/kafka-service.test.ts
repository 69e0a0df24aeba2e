import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockKafka, mockServiceEnv, startMockKafka } from './helpers/mock-kafka.js';
import { expectInsertsInvalidateCache } from './helpers/pipe-cache-check.js';
import { event, ndjson, postEvents, type ServiceProcess, startServiceProcess } from './helpers/service.js';

// The whole service process in Kafka mode (ROLE=all on embedded chDB) against the mock broker.
let kafka: MockKafka;
let svc: ServiceProcess;

beforeAll(async () => {
  kafka = await startMockKafka({ partitions: 3 });
  svc = await startServiceProcess({ env: mockServiceEnv(kafka) });
});
afterAll(async () => {
  expect(await svc?.stop()).toBe(0);
  await kafka?.stop();
});

describe('Kafka mode through HTTP', () => {
  it('serves no cached pipe answer older than the rows the consumer stored', async () => {
    await expectInsertsInvalidateCache(svc, 'kafka');
  });

  it('stores posted rows through the topic, and wait=true answers once they are in ClickHouse', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => event({ event_id: `kf_${i}`, user_id: `u${i % 11}` }));
    const body = `${ndjson(rows)}\n{"event_id":"kf_bad"}`;
    const res = await fetch(`${svc.baseUrl}/v0/events?name=feature_events&wait=true`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${svc.token}` },
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ successful_rows: 300, quarantined_rows: 1, redacted_rows: 0 });
    const [stored] = await svc.sql<{ c: number }>(
      "SELECT count() AS c FROM feature_events WHERE startsWith(event_id, 'kf_')",
    );
    expect(Number(stored?.c)).toBe(300);
    const [q] = await svc.sql<{ c: number }>(
      "SELECT count() AS c FROM feature_events_quarantine WHERE event_id = 'kf_bad'",
    );
    expect(Number(q?.c)).toBe(1);
  });

  it('answers 202 without wait, and the rows arrive', async () => {
    const res = await fetch(`${svc.baseUrl}/v0/events?name=feature_events`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${svc.token}` },
      body: JSON.stringify(event({ event_id: 'kf_async' })),
    });
    expect(res.status).toBe(202);
    let n = 0;
    for (let i = 0; i < 200 && n === 0; i++) {
      n = (await svc.sql("SELECT 1 FROM feature_events WHERE event_id = 'kf_async'")).length;
      if (n === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(n).toBe(1);
  });

  it('answers /v0/ready 503 naming Kafka while the broker is down, and recovers by itself', async () => {
    const ready = async () => {
      const res = await fetch(`${svc.baseUrl}/v0/ready`);
      return { status: res.status, error: ((await res.json()) as { error?: string }).error ?? '' };
    };
    expect((await ready()).status).toBe(200);
    await kafka.inject('down 1');
    let pending: Promise<Response> | undefined;
    let down = { status: 0, error: '' };
    try {
      pending = postEvents(svc, JSON.stringify(event({ event_id: 'kf_down' })), '');
      for (const until = Date.now() + 40_000; down.status !== 503 && Date.now() < until; ) {
        await new Promise((r) => setTimeout(r, 250));
        down = await ready();
      }
    } finally {
      await kafka.inject('up 1');
    }
    expect(down.status).toBe(503);
    expect(down.error).toMatch(/Kafka/);
    let up = { status: 0, error: '' };
    for (const until = Date.now() + 60_000; up.status !== 200 && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 250));
      up = await ready();
    }
    expect(up).toEqual({ status: 200, error: '' });
    // The request sent during the outage was either stored once or refused with 503.
    const res = await pending!;
    expect([202, 503]).toContain(res.status);
    if (res.status === 202) {
      // kafkajs' consumer reconnects with backoff (up to 30 s between tries): allow a minute.
      let n = 0;
      for (let i = 0; i < 600 && n === 0; i++) {
        n = (await svc.sql("SELECT 1 FROM feature_events WHERE event_id = 'kf_down'")).length;
        if (n === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(n).toBe(1);
    }
  }, 180_000);
});
