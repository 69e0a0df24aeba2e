import type { IngestRows } from '../../queue/types.js';
import { quarantineLine, wellFormedJson } from '../quarantine-row.js';
import { type FieldMode, ID_FIELDS, type PiiGuard } from './guard.js';

const METADATA = '"metadata":';

/** feature_events: personal data may sit in metadata, and ids may be e-mail addresses. */
const eventModes = (field: string): FieldMode =>
  ID_FIELDS.has(field) ? 'id' : field === 'metadata' ? 'walk' : 'skip';

/** A quarantine row keeps the row as sent (raw) and its columns: all of it is walked. */
export const quarantineModes = (field: string): FieldMode =>
  ID_FIELDS.has(field) ? 'id' : field === 'c__error_column' ? 'skip' : 'walk';

/**
 * What validation already learnt about the event lines (indexes into rows.events, in
 * ascending order): `walk`, lines the guard's walk must look at; `check`, lines it knows
 * nothing of (the pre-scan decides). Every other line is known to hold nothing.
 */
export interface ScannedLines {
  walk: number[];
  check: number[];
}

/**
 * Applies the guard to rows ready for feature_events: each event line with personal data
 * is rewritten (redact) or moved to quarantine with where and what was found
 * (quarantine); quarantine lines are rewritten so that a row refused for another reason
 * does not keep personal data either. Returns how many event lines were redacted.
 * Without `scanned`, every event line goes through the pre-scan.
 */
export function guardIngestRows(guard: PiiGuard, rows: IngestRows, scanned?: ScannedLines): number {
  const refused = rows.quarantine.length;
  for (let i = 0; i < refused; i++)
    rows.quarantine[i] = scrubQuarantineLine(guard, rows.quarantine[i] as string);
  let redactedRows = 0;
  let kept = 0;
  // The next line to walk and to pre-scan (-1: none): most lines are neither.
  let walks = 0;
  let checks = 0;
  const next = (at: number[], k: number) => (k < at.length ? (at[k] as number) : -1);
  let nextWalk = scanned ? next(scanned.walk, 0) : -1;
  let nextCheck = scanned ? next(scanned.check, 0) : 0;
  const events = rows.events.length;
  for (let i = 0; i < events; i++) {
    const line = rows.events[i] as string;
    let walk = false;
    if (i === nextWalk) {
      walk = true;
      nextWalk = next((scanned as ScannedLines).walk, ++walks);
    } else if (i === nextCheck) {
      nextCheck = scanned ? next(scanned.check, ++checks) : i + 1;
      // Digits, colons and keys are looked for from metadata on (account_id comes after
      // it): the columns before it are ids and the timestamp, which the guard leaves
      // alone, and user_id's @ is found wherever it is.
      walk = guard.mayHoldPii(line, Math.max(line.indexOf(METADATA), 0));
    }
    if (!walk) {
      rows.events[kept++] = line;
      continue;
    }
    const row = JSON.parse(line) as Record<string, unknown>;
    const { value, findings } = guard.guard(row, eventModes);
    if (findings.length === 0) rows.events[kept++] = line;
    else if (guard.policy === 'redact') {
      rows.events[kept++] = wellFormedJson(JSON.stringify(value));
      redactedRows++;
    } else {
      const { columns, errors } = guard.reasons(findings);
      rows.quarantine.push(quarantineLine(JSON.stringify(value), value, columns, errors));
    }
  }
  rows.events.length = kept;
  return redactedRows;
}

/** A quarantine line with personal data replaced (the line itself when there is none). */
export function scrubQuarantineLine(guard: PiiGuard, line: string): string {
  if (!guard.mayHoldPii(line)) return line;
  const row = JSON.parse(line) as Record<string, unknown>;
  const { value, findings } = guard.guard(row, quarantineModes);
  return findings.length === 0 ? line : wellFormedJson(JSON.stringify(value));
}
