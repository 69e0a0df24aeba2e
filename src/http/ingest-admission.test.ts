import { describe, expect, it } from 'vitest';
import { BackpressureError } from '../queue/types.js';
import { ingestAdmission } from './ingest-admission.js';

const settled = async <T>(p: Promise<T>) => {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('ingestAdmission', () => {
  it('admits up to the bound, then in arrival order as room frees', async () => {
    const a = ingestAdmission({ maxBytes: 100, maxWaitMs: 60_000 });
    const first = await a.admit(60);
    const second = a.admit(60); // 120 > 100: waits
    const third = a.admit(10); // fits alone, but arrived after a waiter: waits too
    expect(await settled(second)).toBe(false);
    expect(await settled(third)).toBe(false);
    expect(a.stats()).toMatchObject({ inflight_bytes: 60, waiting: 2 });
    first.release();
    first.release(); // twice counts once
    const [s, t] = await Promise.all([second, third]);
    expect(a.stats()).toMatchObject({ inflight_bytes: 70, waiting: 0, peak_bytes: 70 });
    s.release();
    t.release();
    expect(a.stats().inflight_bytes).toBe(0);
  });

  it('lets a body larger than the bound through when nothing else is in flight', async () => {
    const a = ingestAdmission({ maxBytes: 100, maxWaitMs: 60_000 });
    const big = await a.admit(1_000);
    expect(a.stats().inflight_bytes).toBe(100);
    const next = a.admit(1);
    expect(await settled(next)).toBe(false);
    big.release();
    (await next).release();
  });

  it('counts a body at its decompressed size once known, without waiting', async () => {
    const a = ingestAdmission({ maxBytes: 100, maxWaitMs: 60_000 });
    const gz = await a.admit(10);
    gz.atLeast(90);
    gz.atLeast(50); // never shrinks
    expect(a.stats().inflight_bytes).toBe(90);
    const next = a.admit(20);
    expect(await settled(next)).toBe(false);
    gz.release();
    (await next).release();
    expect(a.stats()).toMatchObject({ inflight_bytes: 0, peak_bytes: 90 });
  });

  it('answers backpressure (503 + Retry-After) after waiting maxWaitMs, and the queue moves on', async () => {
    const a = ingestAdmission({ maxBytes: 100, maxWaitMs: 20 });
    const held = await a.admit(100);
    const err = await a.admit(50).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackpressureError);
    expect((err as BackpressureError).retryAfterSeconds).toBe(1);
    expect((err as Error).message).toMatch(/INGEST_MAX_INFLIGHT_BYTES=100/);
    expect(a.stats().waiting).toBe(0);
    held.release();
    (await a.admit(100)).release();
  });
});
