import { describe, expect, it } from 'vitest';
import { cachedSource } from './cached-source.js';

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function harness() {
  let clock = 0;
  const reads: Array<ReturnType<typeof deferred<number>>> = [];
  const timeouts: Array<() => void> = [];
  const errors: unknown[] = [];
  const source = cachedSource(
    () => {
      const d = deferred<number>();
      reads.push(d);
      return d.promise;
    },
    {
      maxAgeMs: 1_000,
      waitMs: 500,
      empty: -1,
      now: () => clock,
      onError: (e) => errors.push(e),
      timeout: () => new Promise<void>((r) => timeouts.push(r)),
    },
  );
  return { source, reads, timeouts, errors, advance: (ms: number) => (clock += ms) };
}

describe('cachedSource', () => {
  it('reads once per maxAgeMs, however many scrapes ask', async () => {
    const h = harness();
    const first = h.source();
    const second = h.source(); // while the first read runs: shares it
    h.reads[0]?.resolve(7);
    expect(await first).toBe(7);
    expect(await second).toBe(7);
    h.advance(999);
    expect(await h.source()).toBe(7);
    expect(h.reads).toHaveLength(1);
    h.advance(1);
    const third = h.source();
    expect(h.reads).toHaveLength(2);
    h.reads[1]?.resolve(8);
    expect(await third).toBe(8);
  });

  it('answers the last value when a read fails, and tries again only after maxAgeMs', async () => {
    const h = harness();
    const a = h.source();
    h.reads[0]?.resolve(3);
    await a;
    h.advance(1_000);
    const b = h.source();
    h.reads[1]?.reject(new Error('ClickHouse is down'));
    expect(await b).toBe(3);
    expect(h.errors).toHaveLength(1);
    expect(await h.source()).toBe(3);
    expect(h.reads).toHaveLength(2);
  });

  it('answers the last value when a read is slow, and the read serves the next scrape', async () => {
    const h = harness();
    const a = h.source();
    h.timeouts[0]?.(); // waitMs passed before the read answered
    expect(await a).toBe(-1);
    h.reads[0]?.resolve(5);
    await Promise.resolve();
    expect(await h.source()).toBe(5);
    expect(h.reads).toHaveLength(1);
  });
});
