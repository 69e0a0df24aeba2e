import { afterAll, describe, expect, it } from 'vitest';
import { event, ndjson, postEvents, type ServiceProcess, startServiceProcess } from './helpers/service.js';

// SIGTERM while every insert fails: the process stops within its stated bound
// (SHUTDOWN_DRAIN_MS, plus up to 2 s for open connections), exits 0, and leaves the
// acknowledged rows in the spool; the next start stores each of them once.
const DRAIN_MS = 2000;
let svc: ServiceProcess | undefined;
afterAll(async () => {
  await svc?.stop();
});

describe('SIGTERM under failing inserts', () => {
  it('stops within SHUTDOWN_DRAIN_MS + 2 s and the next start stores every acknowledged row once', async () => {
    svc = await startServiceProcess({
      env: { FAULT_INSERT_FAIL_EVERY: '1', SHUTDOWN_DRAIN_MS: String(DRAIN_MS), BATCH_MAX_WAIT_MS: '50' },
    });
    const first = svc;
    const ids: string[] = [];
    for (let r = 0; r < 5; r++) {
      const rows = Array.from({ length: 40 }, (_, i) =>
        event({ event_id: `term_${r}_${i}`, feature_id: 'sigterm' }),
      );
      expect((await postEvents(first, ndjson(rows), '')).status).toBe(202);
      ids.push(...rows.map((x) => x.event_id as string));
    }
    // Every insert fails (half of them after committing: a lost acknowledgement).
    let ready = { error: '' };
    for (
      const until = Date.now() + 30_000;
      !/inserts are failing/.test(ready.error) && Date.now() < until;
    ) {
      await new Promise((r) => setTimeout(r, 100));
      ready = (await (await fetch(`${first.baseUrl}/v0/ready`)).json()) as typeof ready;
    }
    expect(ready.error).toMatch(/inserts are failing/);

    const t0 = performance.now();
    expect(await first.stop()).toBe(0);
    const stopMs = performance.now() - t0;
    console.log(`[sigterm] stopped in ${Math.round(stopMs)} ms with inserts failing (drain ${DRAIN_MS} ms)`);
    expect(stopMs).toBeLessThan(DRAIN_MS + 2000 + 2000); // + 2 s of slack for a loaded machine

    svc = await startServiceProcess({ dataDir: first.dataDir, env: { BATCH_MAX_WAIT_MS: '50' } });
    const second = svc;
    let stored: { event_id: string; c: number }[] = [];
    for (const until = Date.now() + 30_000; stored.length < ids.length && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 200));
      stored = await second.sql(
        "SELECT event_id, count() AS c FROM feature_events WHERE feature_id = 'sigterm' GROUP BY event_id",
      );
    }
    expect(stored.map((r) => r.event_id).sort()).toEqual([...ids].sort());
    expect(stored.filter((r) => Number(r.c) !== 1)).toEqual([]);
  }, 120_000);
});
