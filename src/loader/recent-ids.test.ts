import { describe, expect, it } from 'vitest';
import { RecentIds } from './recent-ids.js';

describe('RecentIds', () => {
  it('keeps the newest `capacity` sends, however many went through it', () => {
    const r = new RecentIds(1_000);
    for (let i = 0; i < 5_500; i++) r.add(`e${i}`);
    expect(r.size).toBe(1_000);
    expect([r.has('e4499'), r.has('e4500'), r.has('e5499')]).toEqual([false, true, true]);
  });

  it('an id sent again stays until its latest send leaves the window', () => {
    const r = new RecentIds(3);
    r.add('a');
    r.add('b');
    r.add('a'); // again
    r.add('c'); // evicts the first 'a' send; the second keeps it
    expect([r.has('a'), r.has('b'), r.has('c')]).toEqual([true, true, true]);
    r.add('d'); // evicts b
    r.add('e'); // evicts the second 'a'
    expect([r.has('a'), r.has('b'), r.has('c'), r.has('d'), r.has('e')]).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
  });

  it('remembers nothing with capacity 0', () => {
    const r = new RecentIds(0);
    r.add('a');
    expect([r.has('a'), r.size]).toEqual([false, 0]);
  });
});
