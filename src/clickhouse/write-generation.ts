import type { Store } from './store.js';

/**
 * Counts the inserts made through a store, so readers can tell whether stored data may
 * have changed (the pipe result cache keys its entries to this number). The count moves
 * when an insert starts and again when it ends, failed or not: an insert that reported an
 * error may still have committed, and an answer computed while an insert ran may or may
 * not include its rows.
 */
export interface WriteGeneration {
  store: Store;
  current(): number;
}

export function trackWrites(store: Store): WriteGeneration {
  let generation = 0;
  return {
    store: {
      ...store,
      async insert(table, lines, token) {
        generation++;
        try {
          await store.insert(table, lines, token);
        } finally {
          generation++;
        }
      },
    },
    current: () => generation,
  };
}
