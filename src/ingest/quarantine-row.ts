import { FEATURE_EVENT_COLUMNS } from './row-schema.js';

/** The longest raw line (and column value) a quarantine row keeps; longer ones are cut and marked. */
export const MAX_RAW_IN_QUARANTINE = 64 * 1024;

// In JSON.stringify's output a \uD800-\uDFFF escape is always a lone surrogate (pairs are
// written as characters). ClickHouse refuses such a row (CANNOT_PARSE_ESCAPE_SEQUENCE).
const LONE_SURROGATE = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/gi;

/** Replaces lone surrogates with U+FFFD in a serialised line, so ClickHouse can store it. */
export function wellFormedJson(line: string): string {
  return line.replace(LONE_SURROGATE, '$1\\ufffd');
}

/** LONE_SURROGATE.test, skipped for the usual line with no \\u escape at all. */
export function hasLoneSurrogate(line: string): boolean {
  if (!line.includes('\\u')) return false;
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(line);
}

/**
 * One row of feature_events_quarantine, in Tinybird's quarantine shape: the raw line, the
 * event's columns that could be read (as strings), which columns were wrong and why. The one
 * builder for both places rows are refused: validation at ingest, and ClickHouse rejecting a
 * row at insert (the loader's poison split).
 */
export function quarantineLine(raw: string, value: unknown, columns: string[], errors: string[]): string {
  const row: Record<string, unknown> = {
    raw: raw.length > MAX_RAW_IN_QUARANTINE ? `${raw.slice(0, MAX_RAW_IN_QUARANTINE)}…(truncated)` : raw,
    c__error_column: columns,
    c__error: errors,
  };
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const col of FEATURE_EVENT_COLUMNS) {
      const v = (value as Record<string, unknown>)[col];
      if (v === undefined || v === null) continue;
      const text = typeof v === 'string' ? v : JSON.stringify(v);
      row[col] = text.length > MAX_RAW_IN_QUARANTINE ? text.slice(0, MAX_RAW_IN_QUARANTINE) : text;
    }
  }
  return wellFormedJson(JSON.stringify(row));
}

/** The quarantine row for a line ClickHouse refused: whatever of it parses as an object is kept. */
export function rejectedLine(line: string, reason: string): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    // unparsable: only raw is kept
  }
  return quarantineLine(line, value, [], [reason]);
}
