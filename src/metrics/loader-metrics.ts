import type { LoaderObserver } from '../loader/observer.js';
import type { Metrics } from './registry.js';

/** The loader's hook (src/loader/observer.ts) feeding the batch and insert metrics. */
export function loaderMetrics(m: Metrics, defaults: { events: string; quarantine: string }): LoaderObserver {
  return {
    batchStored({ rows, tables = defaults, events, quarantine, duplicates, seconds }) {
      // Bytes as sent to ClickHouse: each line plus its newline.
      let bytes = 0;
      for (const line of rows.events) bytes += Buffer.byteLength(line) + 1;
      for (const line of rows.quarantine) bytes += Buffer.byteLength(line) + 1;
      m.batchRows.observe(rows.events.length + rows.quarantine.length);
      m.batchBytes.observe(bytes);
      m.insertDuration.observe({ result: 'ok' }, seconds);
      if (events > 0) m.insertedRows.inc({ table: tables.events }, events);
      if (quarantine > 0) m.insertedRows.inc({ table: tables.quarantine }, quarantine);
      if (duplicates > 0) m.duplicateRows.inc(duplicates);
    },
    insertFailed(seconds) {
      m.insertFailures.inc();
      m.insertDuration.observe({ result: 'error' }, seconds);
    },
    insertRetried() {
      m.insertRetries.inc();
    },
  };
}
