import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLog } from '../log/index.js';
import { type CopyJob, scheduleCopies } from './copy.js';

afterEach(() => vi.useRealTimers());

const job = (schedule: string | undefined, runs: string[]): CopyJob => ({
  pipe: 'p',
  target: 't',
  mode: 'append',
  schedule,
  async run() {
    runs.push(new Date().toISOString());
    return { rows: 0 };
  },
});

describe('scheduleCopies', () => {
  it('runs a copy at each cron time (UTC), and not after stop', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-01T10:59:30Z') });
    const runs: string[] = [];
    const stop = scheduleCopies([job('0 * * * *', runs), job(undefined, runs)], silentLog);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toEqual(['2026-12-01T11:00:00.000Z']);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(runs).toEqual(['2026-12-01T11:00:00.000Z', '2026-12-01T12:00:00.000Z']);
    stop();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(runs).toHaveLength(2);
  });

  it('waits for a run more than 24.8 days away (past the range of setTimeout) without firing early', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-02T00:00:00Z') });
    const runs: string[] = [];
    const stop = scheduleCopies([job('0 0 1 * *', runs)], silentLog); // next: 30 days away
    await vi.advanceTimersByTimeAsync(29 * 86_400_000);
    expect(runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(86_400_000);
    expect(runs).toEqual(['2027-01-01T00:00:00.000Z']);
    stop();
  });
});
