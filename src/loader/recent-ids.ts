/**
 * The last `capacity` event_ids stored, oldest evicted first: what lets the batcher drop a
 * row whose event_id a client already sent (a retry after a timeout, a tracker re-sending
 * its buffer). About 100 bytes per id: 200,000 ids (the default DEDUP_WINDOW) is about 20 MB.
 *
 * Why a ring plus a count per id, not a Set evicted through set.values().next(): V8 leaves
 * a deleted entry as a hole until the table is rebuilt, and that iterator walks every hole
 * at the front, so once the window was full each add cost 50-190 µs (measured: 1M adds into
 * a 200k window took 99 s) and capped ingest near 13k rows/s. Here eviction deletes by key.
 */
export class RecentIds {
  /** Sends in order, oldest at `head`; an id sent again appears again. */
  private readonly ring: (string | undefined)[];
  private head = 0;
  private used = 0;
  /** How many times each id is in the ring. */
  private readonly counts = new Map<string, number>();

  constructor(readonly capacity: number) {
    this.ring = new Array(Math.max(0, Math.floor(capacity)));
  }

  get size(): number {
    return this.counts.size;
  }

  has(id: string): boolean {
    return this.counts.has(id);
  }

  add(id: string): void {
    if (this.ring.length === 0) return;
    // An id cut from a row (eventIdOf's match) is a slice that keeps the whole row alive, and
    // a row read back from the spool is itself a slice of its request's megabytes: the window
    // would hold every one of those. Prepending a character makes V8 copy the id into a string
    // of its own; the slice past that character keeps only the copy.
    id = ` ${id}`.slice(1);
    if (this.used === this.ring.length) {
      // Full: the oldest send leaves (and its id, unless it was sent again since).
      const oldest = this.ring[this.head] as string;
      const n = (this.counts.get(oldest) ?? 1) - 1;
      if (n === 0) this.counts.delete(oldest);
      else this.counts.set(oldest, n);
      this.ring[this.head] = id;
      this.head = (this.head + 1) % this.ring.length;
    } else {
      this.ring[(this.head + this.used) % this.ring.length] = id;
      this.used++;
    }
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
  }
}

const PREFIX = '{"event_id":"';
const EVENT_ID = /^\{"event_id":"((?:[^"\\]|\\.)*)"/;

/**
 * The event_id of one serialised row. Our serialiser writes event_id first, so a prefix
 * match finds it without a parse; anything else falls back to JSON.parse. undefined for a
 * line that is not a JSON object with a string event_id (left for ClickHouse to judge).
 */
export function eventIdOf(line: string): string | undefined {
  // The common case without the regex (twice as fast): no escape before the closing quote.
  if (line.startsWith(PREFIX)) {
    const end = line.indexOf('"', PREFIX.length);
    if (end > 0 && line.lastIndexOf('\\', end) < PREFIX.length) return line.slice(PREFIX.length, end);
  }
  return eventIdBySearch(line);
}

/** eventIdOf without its fast path: the regex, then JSON.parse (exported as the tests' reference). */
export function eventIdBySearch(line: string): string | undefined {
  const m = EVENT_ID.exec(line);
  if (m?.[1] !== undefined) {
    if (!m[1].includes('\\')) return m[1];
    try {
      return JSON.parse(`"${m[1]}"`) as string;
    } catch {
      // Not a JSON string (a raw control character, a bad escape): a line from another Kafka
      // producer, say. Thrown, it would fail its whole batch on every retry.
      return undefined;
    }
  }
  try {
    const id = (JSON.parse(line) as { event_id?: unknown }).event_id;
    return typeof id === 'string' ? id : typeof id === 'number' ? String(id) : undefined;
  } catch {
    return undefined;
  }
}
