import { describe, expect, it } from 'vitest';
import { INSERT_FAILURES_UNREADY, StoreHealth } from './health.js';

describe('StoreHealth', () => {
  it('reports a cause until its next success', async () => {
    const h = new StoreHealth();
    h.fail('kafka', 'broker down');
    expect(await h.check()).toEqual(['broker down']);
    h.ok('kafka');
    expect(await h.check()).toEqual([]);
  });

  it('clears a cause once its probe succeeds, keeps it while the probe fails', async () => {
    const h = new StoreHealth();
    let full = true;
    h.fail('spool', 'disk full', async () => {
      if (full) throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
    });
    expect(await h.check()).toEqual(['disk full']);
    full = false;
    expect(await h.check()).toEqual([]);
  });

  it('turns insert failures into a cause only when they repeat', async () => {
    const h = new StoreHealth();
    for (let a = 1; a < INSERT_FAILURES_UNREADY; a++) h.insertFailed(a, new Error('timeout'));
    expect(await h.check()).toEqual([]);
    h.insertFailed(INSERT_FAILURES_UNREADY, new Error('Code: 243. NOT_ENOUGH_SPACE'));
    expect(await h.check()).toEqual([
      `inserts are failing (${INSERT_FAILURES_UNREADY} attempts in a row): Code: 243. NOT_ENOUGH_SPACE`,
    ]);
    h.ok('inserts');
    expect(await h.check()).toEqual([]);
  });

  it('reads a watched cause from live state on every check', async () => {
    const h = new StoreHealth();
    let waitingMs = 0;
    h.watch('kafka-waiting', () => (waitingMs > 5000 ? `no acknowledgement for ${waitingMs} ms` : undefined));
    expect(await h.check()).toEqual([]);
    waitingMs = 6000;
    expect(await h.check()).toEqual(['no acknowledgement for 6000 ms']);
    waitingMs = 0;
    expect(await h.check()).toEqual([]);
  });
});
