import type { Store } from './store.js';

/**
 * TEST-ONLY fault injection (FAULT_INSERT_FAIL_EVERY=N, default 0 = off): one insert in N,
 * on average, fails with a transient error (a seeded pseudo-random pick, so a retry that
 * always makes the same number of inserts is not failed at the same step forever).
 * Odd-numbered faults fail before the insert reaches ClickHouse; even-numbered ones fail
 * *after* it committed (the acknowledgement is "lost"), which is the case that needs the
 * deduplication token. Used by test/faults.test.ts; never set it in production.
 */
export function withInsertFaults(store: Store, everyN: number, onFault?: (n: number) => void): Store {
  if (!everyN) return store;
  let seed = 0x2545f491;
  const pick = () => {
    // xorshift32: deterministic per process, no dependency on Math.random
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % everyN === 0;
  };
  let faults = 0;
  return {
    ...store,
    async insert(table, lines, token) {
      if (lines.length === 0 || !pick()) return store.insert(table, lines, token);
      faults++;
      onFault?.(faults);
      if (faults % 2 === 1) throw new Error('injected fault: insert failed before reaching ClickHouse');
      await store.insert(table, lines, token);
      throw new Error('injected fault: insert committed but the acknowledgement was lost');
    },
  };
}
