import { describe, expect, it } from 'vitest';
import { ResultCache } from './result-cache.js';

function setup(opts: { ttlMs?: number; maxBytes?: number; knowsEveryWrite?: boolean } = {}) {
  let generation = 0;
  let now = 1_000;
  let runs = 0;
  const cache = new ResultCache({
    ttlMs: opts.ttlMs ?? 1_000,
    maxBytes: opts.maxBytes ?? 1 << 20,
    generation: () => generation,
    now: () => now,
    ...(opts.knowsEveryWrite === undefined ? {} : { knowsEveryWrite: opts.knowsEveryWrite }),
  });
  const answer = (body: string) => async () => {
    runs++;
    return { body, contentType: 'application/json' };
  };
  return {
    cache,
    answer,
    generation: () => generation,
    runs: () => runs,
    write: () => generation++,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('ResultCache', () => {
  it('answers a repeated question from the store', async () => {
    const t = setup();
    expect((await t.cache.get('k', t.answer('a'))).outcome).toBe('MISS');
    const again = await t.cache.get('k', t.answer('b'));
    expect(again).toEqual({ outcome: 'HIT', result: expect.objectContaining({ body: 'a' }) });
    expect(t.runs()).toBe(1);
  });

  it('forgets everything once rows were written', async () => {
    const t = setup();
    await t.cache.get('k', t.answer('a'));
    t.write();
    const after = await t.cache.get('k', t.answer('b'));
    expect(after.outcome).toBe('MISS');
    expect(after.result.body).toBe('b');
  });

  it('does not keep an answer computed while a write ran', async () => {
    const t = setup();
    let finish: (v: { body: string; contentType: string }) => void = () => {};
    const slow = t.cache.get('k', () => new Promise((r) => (finish = r)));
    t.write(); // a write lands while the query runs
    finish({ body: 'old', contentType: 'x' });
    await slow;
    expect((await t.cache.get('k', t.answer('new'))).result.body).toBe('new');
  });

  it('expires answers after ttlMs (templates may read now())', async () => {
    const t = setup({ ttlMs: 500 });
    await t.cache.get('k', t.answer('a'));
    t.advance(499);
    expect((await t.cache.get('k', t.answer('b'))).outcome).toBe('HIT');
    t.advance(1);
    expect((await t.cache.get('k', t.answer('b'))).result.body).toBe('b');
  });

  it('keeps an answer that does not read the clock until the next write', async () => {
    const t = setup({ ttlMs: 500 });
    await t.cache.get('k', t.answer('a'), false);
    t.advance(60_000);
    expect((await t.cache.get('k', t.answer('b'), false)).outcome).toBe('HIT');
    t.write();
    expect((await t.cache.get('k', t.answer('b'), false)).result.body).toBe('b');
  });

  it('runs one query for concurrent misses of the same key', async () => {
    const t = setup();
    const all = await Promise.all(Array.from({ length: 5 }, () => t.cache.get('k', t.answer('a'))));
    expect(all.map((r) => r.result.body)).toEqual(['a', 'a', 'a', 'a', 'a']);
    expect(t.runs()).toBe(1);
  });

  it('does not store failures', async () => {
    const t = setup();
    await expect(
      t.cache.get('k', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await t.cache.get('k', t.answer('a'))).outcome).toBe('MISS');
  });

  it('evicts the least recently used answers past maxBytes', async () => {
    const t = setup({ maxBytes: 400 });
    const body = 'x'.repeat(90);
    for (const k of ['a', 'b', 'c', 'd']) await t.cache.get(k, t.answer(body));
    await t.cache.get('a', t.answer(body)); // a is now the most recent
    await t.cache.get('e', t.answer(body)); // pushes out b, the least recent
    expect(t.cache.stats().bytes).toBeLessThanOrEqual(400);
    expect((await t.cache.get('a', t.answer(body))).outcome).toBe('HIT');
    expect((await t.cache.get('b', t.answer(body))).outcome).toBe('MISS');
  });

  it('keeps an answer held { until } a moment, in the generation it was checked in', async () => {
    const t = setup({ ttlMs: 500 });
    await t.cache.get('k', t.answer('a'), { until: 11_000, generation: t.generation() });
    t.advance(9_999);
    expect((await t.cache.get('k', t.answer('b'))).outcome).toBe('HIT');
    t.advance(1);
    expect((await t.cache.get('k', t.answer('b'))).result.body).toBe('b');
    // Checked against an older generation: only the clock's ttlMs.
    const stale = { until: 60_000, generation: t.generation() };
    t.write();
    await t.cache.get('j', t.answer('c'), stale);
    t.advance(500);
    expect((await t.cache.get('j', t.answer('d'))).result.body).toBe('d');
  });

  it('ends an answer derived from another with it', async () => {
    const t = setup({ ttlMs: 500 });
    const whole = await t.cache.get('whole', t.answer('a'));
    await t.cache.get(
      'part',
      async () => ({ body: 'p', contentType: 'x', expires: whole.result.expires }),
      false,
    );
    t.advance(499);
    expect((await t.cache.get('part', t.answer('q'), false)).outcome).toBe('HIT');
    t.advance(1);
    expect((await t.cache.get('part', t.answer('q'), false)).result.body).toBe('q');
  });

  it('keeps nothing past ttlMs when others may write unseen', async () => {
    const t = setup({ ttlMs: 500, knowsEveryWrite: false });
    await t.cache.get('k', t.answer('a'), false);
    t.advance(500);
    expect((await t.cache.get('k', t.answer('b'), false)).result.body).toBe('b');
  });
});
