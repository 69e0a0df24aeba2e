/**
 * Pipe results kept between inserts. Why: chDB answers one query at a time, so 32 callers
 * asking a dashboard's questions wait in line behind each other; a stored answer costs no
 * query. An entry is served only while
 *  - no insert has stored rows since it was computed (the writer bumps `generation`), and
 *  - for an answer that reads the clock (now(), today(): timeline's look-back window), it is
 *    younger than ttlMs.
 *  - for an answer kept until a moment (`{ until }`: a window ending now() over data that has
 *    no row later than when it was computed, valid until its day or bucket ends), before it.
 * So an answer never misses a stored row, and a clock-reading one is at most ttlMs behind.
 * Without knowsEveryWrite (a ClickHouse server other processes write to) no entry outlives ttlMs.
 * Concurrent misses for the same key share one query.
 */
export interface CachedResult {
  body: string | Uint8Array<ArrayBuffer>;
  contentType: string;
  /** An answer derived from another cached answer ends with it (ms since the epoch). */
  expires?: number;
}

/**
 * How long an answer holds besides the next insert: true = it reads the clock (ttlMs), false =
 * it does not, { until } = until that moment, if computed in `generation` (what the caller
 * checked the data against); in another it is treated as reading the clock.
 */
export type Lifetime = boolean | { until: number; generation: number };

interface Entry extends CachedResult {
  generation: number;
  expires: number;
  bytes: number;
}

export interface ResultCacheOptions {
  ttlMs: number;
  maxBytes: number;
  /** Changes whenever rows were stored; entries from another generation are stale. */
  generation: () => number;
  /** False when rows may be stored by others unseen (a ClickHouse server): every entry then lives ttlMs at most. */
  knowsEveryWrite?: boolean;
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
    lifetime: Lifetime = true,
  ): Promise<{ result: CachedResult; outcome: CacheOutcome }> {
    const generation = this.options.generation();
    const entry = this.entries.get(key);
    if (entry && entry.generation === generation && this.now() < entry.expires) {
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
    const promise = compute().then((result) => ({
      ...result,
      expires: Math.min(this.expiry(lifetime, at), result.expires ?? Number.POSITIVE_INFINITY),
    }));
    this.inflight.set(key, { generation, promise });
    try {
      const result = await promise;
      this.store(key, { ...result, generation, bytes: result.body.length + key.length });
      return { result, outcome: 'MISS' };
    } finally {
      if (this.inflight.get(key)?.promise === promise) this.inflight.delete(key);
    }
  }

  private expiry(lifetime: Lifetime, at: number): number {
    const clock = at + this.options.ttlMs;
    const own =
      lifetime === false
        ? Number.POSITIVE_INFINITY
        : lifetime === true || lifetime.generation !== this.options.generation()
          ? clock
          : lifetime.until;
    return this.options.knowsEveryWrite === false ? Math.min(own, clock) : own;
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

  /** The insert generation now (see ResultCacheOptions.generation). */
  generation(): number {
    return this.options.generation();
  }

  stats(): { entries: number; bytes: number; hits: number; misses: number } {
    return { entries: this.entries.size, bytes: this.bytes, hits: this.hits, misses: this.misses };
  }
}
