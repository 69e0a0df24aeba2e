/**
 * The last `capacity` event_ids stored, oldest evicted first: what lets the batcher drop a
 * row whose event_id a client already sent (a retry after a timeout, a tracker re-sending
 * its buffer). A Set keeps insertion order, so eviction is O(1). About 100 bytes per id:
 * 200,000 ids (the default DEDUP_WINDOW) is about 20 MB.
 */
export class RecentIds {
  private readonly ids = new Set<string>();
  constructor(readonly capacity: number) {}

  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (this.capacity <= 0) return;
    if (this.ids.has(id)) this.ids.delete(id); // refresh: the newest send keeps it longest
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }
}

const EVENT_ID = /^\{"event_id":"((?:[^"\\]|\\.)*)"/;

/**
 * The event_id of one serialised row. Our serialiser writes event_id first, so a prefix
 * match finds it without a parse; anything else falls back to JSON.parse. undefined for a
 * line that is not a JSON object with a string event_id (left for ClickHouse to judge).
 */
export function eventIdOf(line: string): string | undefined {
  const m = EVENT_ID.exec(line);
  if (m?.[1] !== undefined) return m[1].includes('\\') ? (JSON.parse(`"${m[1]}"`) as string) : m[1];
  try {
    const id = (JSON.parse(line) as { event_id?: unknown }).event_id;
    return typeof id === 'string' ? id : typeof id === 'number' ? String(id) : undefined;
  } catch {
    return undefined;
  }
}
