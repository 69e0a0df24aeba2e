/**
 * Rows of one ingest request, already validated and serialised for ClickHouse:
 * each entry is one JSONEachRow line (no newline) for the datasource's table or for its
 * quarantine table.
 */
export interface IngestRows {
  events: string[];
  quarantine: string[];
  /**
   * The datasource the rows are for. Absent means feature_events, as do spool records and
   * Kafka messages written before rows carried their datasource.
   */
  datasource?: string;
}

/** The built-in datasource, and what rows without a datasource are for. */
export const DEFAULT_DATASOURCE = 'feature_events';

/** What a datasource name may be (a .datasource file's name): travels in spool records and Kafka headers. */
export const DATASOURCE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The datasource rows are for: their own, or feature_events. */
export const datasourceOf = (rows: Pick<IngestRows, 'datasource'>): string =>
  rows.datasource ?? DEFAULT_DATASOURCE;

export interface Acceptance {
  /** Resolves once every row of the request is stored in ClickHouse (wait=true). */
  committed: Promise<void>;
}

/**
 * Where the api hands accepted rows. append() resolves only once the rows are durable
 * (fsynced to the local spool, or acknowledged by all in-sync Kafka replicas): a 202
 * after it is never a lie, even if the process is killed the next instant.
 */
/** How a caller hands rows to a sink. */
export interface AppendOptions {
  /**
   * The caller waits for the rows to be stored (wait=true, a bulk append): the embedded loader
   * does not hold their batch back for BATCH_MIN_INTERVAL_MS, so a client sending one
   * wait=true request after another waits BATCH_MAX_WAIT_MS plus the insert, as before.
   */
  waiting?: boolean;
}

export interface EventSink {
  append(rows: IngestRows, opts?: AppendOptions): Promise<Acceptance>;
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
