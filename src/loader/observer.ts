import type { IngestRows } from '../queue/types.js';

/**
 * What the loader tells whoever watches it (the metrics, src/metrics/loader-metrics.ts).
 * A hook rather than metrics here: the loader stays free of prom-client, and a test can
 * count calls. Called on the insert path, so implementations must be cheap and never throw.
 */
export interface LoaderObserver {
  /** A batch is stored. `rows` is what was sent (re-sent event_ids already dropped). */
  batchStored(batch: {
    rows: IngestRows;
    /** The datasource's tables; feature_events and its quarantine when absent. */
    tables?: { events: string; quarantine: string };
    /** Rows now in feature_events and in the quarantine table (poison rows moved there). */
    events: number;
    quarantine: number;
    /** Event rows dropped as re-sent (DEDUP_WINDOW). */
    duplicates: number;
    seconds: number;
  }): void;
  /** An insert attempt failed after `seconds` (transient: it is retried unless the loader stops). */
  insertFailed(seconds: number): void;
  /** Another attempt is scheduled (src/lib/retry.ts's onError). */
  insertRetried(): void;
}

export const NO_OBSERVER: LoaderObserver = {
  batchStored() {},
  insertFailed() {},
  insertRetried() {},
};
