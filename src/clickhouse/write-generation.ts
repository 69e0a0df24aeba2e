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
  /** Counts a write made another way (a copy pipe's INSERT … SELECT through a client). */
  around<T>(write: () => Promise<T>): Promise<T>;
}

export function trackWrites(store: Store): WriteGeneration {
  let generation = 0;
  const around = async <T>(write: () => Promise<T>): Promise<T> => {
    generation++;
    try {
      return await write();
    } finally {
      generation++;
    }
  };
  return {
    store: { ...store, insert: (table, lines, token) => around(() => store.insert(table, lines, token)) },
    current: () => generation,
    around,
  };
}
