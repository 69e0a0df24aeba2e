import { describe, expect, it } from 'vitest';
import { InsertPacing, insertDueAt } from './insert-pacing.js';

describe('InsertPacing', () => {
  it('a lone partition waits BATCH_MAX_WAIT_MS however slow the inserts were', () => {
    const p = new InsertPacing({ minWaitMs: 200, maxWaitMs: 5_000 });
    expect(p.waitMs(0)).toBe(200);
    p.inserted(900);
    expect(p.waitMs(0)).toBe(200);
  });

  it('waits `spread` times the others’ insert time while they hold rows, capped', () => {
    const p = new InsertPacing({ minWaitMs: 200, maxWaitMs: 5_000 });
    expect(p.waitMs(11)).toBe(200); // no insert measured yet
    p.inserted(150);
    expect(p.waitMs(11)).toBe(150 * 11 * 2);
    expect(p.waitMs(1)).toBe(300);
    p.inserted(150);
    expect(new InsertPacing({ minWaitMs: 200, maxWaitMs: 5_000, spread: 1 }).waitMs(3)).toBe(200);
    p.inserted(1_000);
    expect(p.waitMs(11)).toBe(5_000);
  });

  it('follows the recent insert times: the wait falls back within a dozen inserts', () => {
    const p = new InsertPacing({ minWaitMs: 200, maxWaitMs: 5_000 });
    p.inserted(500);
    const loaded = p.waitMs(3);
    for (let i = 0; i < 12; i++) p.inserted(20);
    expect(loaded).toBe(3_000);
    expect(p.waitMs(3)).toBe(200);
  });

  it('is off when the cap is not above BATCH_MAX_WAIT_MS', () => {
    const p = new InsertPacing({ minWaitMs: 200, maxWaitMs: 200 });
    p.inserted(400);
    expect(p.waitMs(11)).toBe(200);
  });
});

describe('insertDueAt', () => {
  it('waits the row wait after a quiet spell, and the interval after a recent insert', () => {
    // A lone row, the last insert long ago: due BATCH_MAX_WAIT_MS after it arrived.
    expect(insertDueAt(10_000, 200, 1_000, 500)).toBe(10_200);
    // A row that came 50 ms after an insert started: due 500 ms after that insert.
    expect(insertDueAt(10_050, 200, 10_000, 500)).toBe(10_500);
    // Never inserted yet, or the interval off: the row wait alone.
    expect(insertDueAt(10_000, 200, Number.NEGATIVE_INFINITY, 500)).toBe(10_200);
    expect(insertDueAt(10_050, 200, 10_000, 0)).toBe(10_250);
  });
});
