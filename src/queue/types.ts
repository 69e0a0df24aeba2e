/**
 * Rows of one ingest request, already validated and serialised for ClickHouse:
 * each entry is one JSONEachRow line (no newline) for feature_events or for
 * feature_events_quarantine.
 */
export interface IngestRows {
  events: string[];
  quarantine: string[];
}

export interface Acceptance {
  /** Resolves once every row of the request is stored in ClickHouse (wait=true). */
  committed: Promise<void>;
}

/**
 * Where the api hands accepted rows. append() resolves only once the rows are durable
 * (fsynced to the local spool, or acknowledged by all in-sync Kafka replicas): a 202
 * after it is never a lie, even if the process is killed the next instant.
 */
export interface EventSink {
  append(rows: IngestRows): Promise<Acceptance>;
  /** Throws BackpressureError when the sink cannot take more now. */
  checkCapacity(bytes: number): void;
  /** Bytes accepted and not yet stored (the spool) or not yet acknowledged (Kafka), for /v0/ready and metrics. */
  stats?(): { pending_bytes: number };
  /** Stops accepting and drains; the spool gives up after `timeoutMs`, leaving rows for the next start. */
  close(timeoutMs?: number): Promise<void>;
}

/** Too much accepted but not yet stored: answer 503 with Retry-After, nothing ingested. */
export class BackpressureError extends Error {
  override name = 'BackpressureError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}
