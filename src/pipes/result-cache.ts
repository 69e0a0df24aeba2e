/**
 * Pipe results kept between inserts. Why: chDB answers one query at a time, so 32 callers
 * asking a dashboard's questions wait in line behind each other; a stored answer costs no
 * query. An entry is served only while
 *  - no insert has stored rows since it was computed (the writer bumps `generation`), and
 *  - for an answer that reads the clock (now(), today(): timeline's look-back window), it is
 *    younger than ttlMs.
 * So an answer never misses a stored row, and a clock-reading one is at most ttlMs behind.
 * Concurrent misses for the same key share one query.
 */
export interface CachedResult {
  body: string | Uint8Array<ArrayBuffer>;
  contentType: string;
}

interface Entry extends CachedResult {
  generation: number;
  at: number;
  bytes: number;
  ttlMs: number;
}

export interface ResultCacheOptions {
  ttlMs: number;
  maxBytes: number;
  /** Changes whenever rows were stored; entries from another generation are stale. */
  generation: () => number;
  now?: () => number;
}

export type CacheOutcome = 'HIT' | 'MISS' | 'BYPASS';

export class ResultCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, { generation: number; promise: Promise<CachedResult> }>();
  private bytes = 0;
  private readonly now: () => number;
  hits = 0;
  misses = 0;

  constructor(private readonly options: ResultCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The stored answer for key, or compute() it (once, however many callers wait for it). */
  async get(
    key: string,
    compute: () => Promise<CachedResult>,
    readsClock = true,
  ): Promise<{ result: CachedResult; outcome: CacheOutcome }> {
    const generation = this.options.generation();
    const entry = this.entries.get(key);
    if (entry && entry.generation === generation && this.now() - entry.at < entry.ttlMs) {
      // Re-insert: Map order is the eviction order (least recently used first).
      this.entries.delete(key);
      this.entries.set(key, entry);
      this.hits++;
      return { result: entry, outcome: 'HIT' };
    }
    this.misses++;
    const running = this.inflight.get(key);
    if (running && running.generation === generation)
      return { result: await running.promise, outcome: 'MISS' };
    const at = this.now();
    const promise = compute();
    this.inflight.set(key, { generation, promise });
    try {
      const result = await promise;
      const ttlMs = readsClock ? this.options.ttlMs : Number.POSITIVE_INFINITY;
      this.store(key, { ...result, generation, at, ttlMs, bytes: result.body.length + key.length });
      return { result, outcome: 'MISS' };
    } finally {
      if (this.inflight.get(key)?.promise === promise) this.inflight.delete(key);
    }
  }

  private store(key: string, entry: Entry): void {
    if (entry.bytes > this.options.maxBytes / 4) return; // one huge answer must not flush the rest
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.bytes;
      this.entries.delete(key);
    }
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.options.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= e.bytes;
    }
  }

  stats(): { entries: number; bytes: number; hits: number; misses: number } {
    return { entries: this.entries.size, bytes: this.bytes, hits: this.hits, misses: this.misses };
  }
}
