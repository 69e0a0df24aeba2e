import { describe, expect, it } from 'vitest';
import { retry, STOPPED } from './retry.js';

const noWait = async () => {};

describe('retry', () => {
  it('returns the first success, after doubling waits capped at maxMs', async () => {
    const waits: number[] = [];
    let calls = 0;
    const value = await retry(
      async () => {
        if (++calls < 6) throw new Error(`fail ${calls}`);
        return 'done';
      },
      { minMs: 100, maxMs: 1000, wait: async (ms) => void waits.push(ms) },
    );
    expect(value).toBe('done');
    expect(waits).toEqual([100, 200, 400, 800, 1000]);
  });

  it('rethrows the last error after `attempts` failures', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          throw new Error(`fail ${++calls}`);
        },
        { minMs: 1, maxMs: 1, attempts: 3, wait: noWait },
      ),
    ).rejects.toThrow('fail 3');
    expect(calls).toBe(3);
  });

  it('stops between attempts when the predicate says so, without another attempt', async () => {
    let calls = 0;
    let stop = false;
    const value = await retry(
      async () => {
        calls++;
        throw new Error('down');
      },
      {
        minMs: 1,
        maxMs: 1,
        stop: () => stop,
        wait: async () => {
          stop = calls >= 2;
        },
      },
    );
    expect(value).toBe(STOPPED);
    expect(calls).toBe(2);
  });

  it('tells onError each failure with its attempt number and the wait', async () => {
    const seen: Array<[string, number, number]> = [];
    let calls = 0;
    await retry(
      async () => {
        if (++calls < 3) throw new Error(`e${calls}`);
      },
      { minMs: 10, maxMs: 100, wait: noWait, onError: (e, n, d) => seen.push([(e as Error).message, n, d]) },
    );
    expect(seen).toEqual([
      ['e1', 1, 10],
      ['e2', 2, 20],
    ]);
  });

  it('rethrows at once an error that is not retryable', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error(calls === 1 ? 'transient' : 'final');
        },
        { minMs: 1, maxMs: 1, wait: noWait, retryable: (e) => (e as Error).message !== 'final' },
      ),
    ).rejects.toThrow('final');
    expect(calls).toBe(2);
  });
});
