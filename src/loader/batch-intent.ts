/**
 * "Intent, then insert, then commit": before a batch is inserted, the loader records which
 * range of the queue it is and which of its event rows the dedup window dropped. Whoever
 * resumes after a crash (or a rebalance) re-inserts exactly that range, with exactly those
 * rows, under the same token, so ClickHouse drops it if the first attempt had landed. One
 * type, two encodings: the spool's checkpoint file and Kafka's commit metadata.
 */
export interface BatchIntent {
  /** First position of the range (spool byte offset, Kafka offset). */
  start: number;
  /** Its end: the spool's end offset (exclusive), Kafka's last offset (inclusive). */
  end: number;
  /**
   * Indexes, in the batch's event rows, that the dedup window dropped on the first attempt.
   * Materialized views deduplicate by token and content, so a replay with other rows would
   * count them twice in the rollups.
   */
  skip?: number[];
}

const KAFKA_METADATA = /^insert:(\d+)-(\d+)(?:;skip:([\d,]+))?$/;
// Kafka brokers accept 4096 bytes of commit metadata by default.
const MAX_KAFKA_METADATA = 4000;

/** Kafka commit metadata: "insert:<first>-<last>[;skip:i,j,…]". */
export function intentToKafkaMetadata(intent: BatchIntent): string {
  return `insert:${intent.start}-${intent.end}${intent.skip?.length ? `;skip:${intent.skip.join(',')}` : ''}`;
}

export function intentFromKafkaMetadata(metadata: string | null | undefined): BatchIntent | null {
  const m = KAFKA_METADATA.exec(metadata ?? '');
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]), skip: m[3] ? m[3].split(',').map(Number) : [] };
}

/**
 * Whether the skip list fits Kafka's metadata limit. Past it the batch is inserted unfiltered
 * (re-sent rows in it may then be counted twice), which is logged by the caller.
 */
export function fitsKafkaMetadata(intent: BatchIntent): boolean {
  return intentToKafkaMetadata(intent).length <= MAX_KAFKA_METADATA;
}

/** The deduplication token's stem for a range: the same range always gets the same one. */
export function batchToken(source: string, intent: Pick<BatchIntent, 'start' | 'end'>): string {
  return `${source}:${intent.start}-${intent.end}`;
}
