import type { Metrics } from './registry.js';

/** Rows read from a request body (valid or not), before anything is stored. */
export function countReceived(m: Metrics | undefined, datasource: string, rows: number): void {
  if (m && rows > 0) m.eventsReceived.inc({ datasource }, rows);
}

/** Rows the client was told are stored: valid ones, and invalid ones sent to quarantine. */
export function countAccepted(
  m: Metrics | undefined,
  datasource: string,
  rows: { accepted: number; quarantined: number },
): void {
  if (!m) return;
  if (rows.accepted > 0) m.eventsAccepted.inc({ datasource }, rows.accepted);
  if (rows.quarantined > 0) m.eventsQuarantined.inc({ datasource }, rows.quarantined);
}

/**
 * Rows the PII guard changed (PII_POLICY=redact). Call it where the ingest result is known
 * to be acknowledged, next to countAccepted, with the guard's redacted row count.
 */
export function countRedacted(m: Metrics | undefined, datasource: string, rows: number): void {
  if (m && rows > 0) m.eventsRedacted.inc({ datasource }, rows);
}
