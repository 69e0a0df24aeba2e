import { describe, expect, it } from 'vitest';
import { type LookupJob, ReadCoalescer } from './read-coalescer.js';

// A fake pipe: each key's rows are [key, i] for i < rows(key); a solo answer as ClickHouse's FORMAT JSON.
const meta = [{ name: 'v', type: 'String' }];
const rowsOf = (key: string) => Array.from({ length: key.length }, (_, i) => ({ v: `${key}${i}` }));
const soloBody = (key: string, limit = Number.POSITIVE_INFINITY) => {
  const data = rowsOf(key).slice(0, limit);
  // A solo query with a LIMIT reports the rows before it (here: every row of the key).
  const cut = Number.isFinite(limit) ? { rows_before_limit_at_least: key.length } : {};
  return JSON.stringify({
    meta,
    data,
    rows: data.length,
    ...cut,
    statistics: { elapsed: 0, rows_read: 1, bytes_read: 1 },
  });
};
const batchBody = (keys: string[], limit = Number.POSITIVE_INFINITY) => {
  const data = keys.flatMap((k) =>
    rowsOf(k)
      .slice(0, limit)
      .map((r) => ({ __key: k, ...r })),
  );
  return JSON.stringify({
    meta: [{ name: '__key', type: 'String' }, ...meta],
    data,
    rows: data.length,
    statistics: { elapsed: 0, rows_read: 9, bytes_read: 9 },
  });
};

function harness(opts: { failBatch?: boolean; failKey?: string; limit?: number } = {}) {
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  const log: string[] = [];
  let release: Array<() => void> = [];
  const gate = () => new Promise<void>((r) => release.push(r));
  const job = (key: string): LookupJob => ({
    pipe: 'p',
    group: 'g',
    key,
    limit,
    solo: async () => {
      log.push(`solo ${key}`);
      await gate();
      if (key === opts.failKey) throw new Error(`bad ${key}`);
      return soloBody(key, limit);
    },
    batch: async (keys) => {
      log.push(`batch ${keys.join(' ')}`);
      await gate();
      if (opts.failBatch) throw new Error('batch failed');
      return batchBody(keys, limit);
    },
  });
  const openAll = async () => {
    for (let i = 0; i < 50 && release.length === 0; i++) await new Promise((r) => setImmediate(r));
    const r = release;
    release = [];
    for (const f of r) f();
  };
  return { log, job, openAll };
}

const unwrap = (body: string) => {
  const { statistics: _s, ...rest } = JSON.parse(body) as Record<string, unknown>;
  return rest;
};

describe('ReadCoalescer', () => {
  it('runs a request alone at once while a slot is free', async () => {
    const h = harness();
    const c = new ReadCoalescer({ slots: 2 });
    const a = c.answer(h.job('a'));
    const b = c.answer(h.job('bb'));
    expect(h.log).toEqual(['solo a', 'solo bb']);
    await h.openAll();
    expect(await a).toBe(soloBody('a'));
    expect(await b).toBe(soloBody('bb'));
    expect(c.batches).toBe(0);
  });

  it('runs the requests that waited as one batch, each answered as alone', async () => {
    const h = harness();
    const batches: Array<[string, number]> = [];
    const c = new ReadCoalescer({ slots: 1, onBatch: (pipe, n) => batches.push([pipe, n]) });
    const first = c.answer(h.job('a'));
    const waiting = ['bb', 'ccc', '', 'bb'].map((k) => c.answer(h.job(k)));
    expect(h.log).toEqual(['solo a']);
    await h.openAll();
    await first;
    await h.openAll();
    const got = await Promise.all(waiting);
    expect(h.log).toEqual(['solo a', 'batch bb ccc ']);
    expect(got.map(unwrap)).toEqual(['bb', 'ccc', '', 'bb'].map((k) => unwrap(soloBody(k))));
    expect(c.coalesced).toBe(4);
    expect(batches).toEqual([['p', 4]]);
  });

  it('runs the first request of a group alone even when busy (its answer is the shape to check)', async () => {
    const h = harness();
    const c = new ReadCoalescer({ slots: 1 });
    const other: LookupJob = { ...h.job('x'), group: 'other' };
    const busy = c.answer(other);
    const waiting = ['a', 'bb'].map((k) => c.answer(h.job(k)));
    await h.openAll();
    await busy;
    await h.openAll();
    await h.openAll();
    await Promise.all(waiting);
    expect(h.log).toEqual(['solo x', 'solo a', 'solo bb']);
  });

  it('answers each member alone, with its own error, when the batch fails', async () => {
    const h = harness({ failBatch: true, failKey: 'ccc' });
    const c = new ReadCoalescer({ slots: 1 });
    const first = c.answer(h.job('a'));
    const waiting = ['bb', 'ccc'].map((k) => c.answer(h.job(k)).catch((e: Error) => e.message));
    await h.openAll();
    await first;
    await h.openAll(); // the batch
    await h.openAll(); // the solos after it
    expect(await Promise.all(waiting)).toEqual([soloBody('bb'), 'bad ccc']);
    expect(h.log).toEqual(['solo a', 'batch bb ccc', 'solo bb', 'solo ccc']);
  });

  it('answers a key at its LIMIT alone, and runs it alone from then on', async () => {
    const h = harness({ limit: 2 });
    const c = new ReadCoalescer({ slots: 1 });
    const round = async (keys: string[]) => {
      const first = c.answer(h.job('a'));
      const waiting = keys.map((k) => c.answer(h.job(k)));
      for (let i = 0; i < 4; i++) await h.openAll();
      await first;
      return Promise.all(waiting);
    };
    const got = await round(['b', 'ccc']);
    expect(got.map(unwrap)).toEqual([unwrap(soloBody('b', 2)), unwrap(soloBody('ccc', 2))]);
    h.log.length = 0;
    await round(['dddd', 'b', 'ccc']);
    expect(h.log).toEqual(['solo a', 'batch dddd b', 'solo dddd', 'solo ccc']);
  });
});
