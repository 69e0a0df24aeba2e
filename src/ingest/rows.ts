import type { IngestRows } from '../queue/types.js';
import { fastEventLine, isCanonicalEventLine } from './fast-row.js';
import { FEATURE_EVENT_COLUMNS, featureEventSchema } from './row-schema.js';

// A quarantined line keeps at most this much of its raw text: enough to see what was
// sent, bounded so garbage cannot fill the disk.
export const MAX_RAW_IN_QUARANTINE = 64 * 1024;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

// In JSON.stringify's output a \uD800-\uDFFF escape is always a lone surrogate (pairs are
// written as characters). ClickHouse refuses such a row (CANNOT_PARSE_ESCAPE_SEQUENCE).
const LONE_SURROGATE = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/gi;

/** Replaces lone surrogates with U+FFFD in a serialised line, so ClickHouse can store it. */
export function wellFormedJson(line: string): string {
  return line.replace(LONE_SURROGATE, '$1\\ufffd');
}

function quarantineRow(raw: string, value: unknown, columns: string[], errors: string[]): string {
  return wellFormedJson(quarantineRowRaw(raw, value, columns, errors));
}

function quarantineRowRaw(raw: string, value: unknown, columns: string[], errors: string[]): string {
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
  return JSON.stringify(row);
}

/** LONE_SURROGATE.test, skipped for the usual line with no \\u escape at all. */
function hasLoneSurrogate(line: string): boolean {
  if (!line.includes('\\u')) return false;
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(line);
}

/** Validates one parsed value and files it as an event line or a quarantine line. */
function addValue(out: IngestRows, raw: string, value: unknown): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    out.quarantine.push(quarantineRow(raw, undefined, [], ['a row must be a JSON object']));
    return;
  }
  const fast = fastEventLine(value as Record<string, unknown>);
  const parsed = fast === undefined ? featureEventSchema.safeParse(value) : undefined;
  if (parsed === undefined || parsed.success) {
    const line = parsed === undefined ? (fast as string) : JSON.stringify(parsed.data);
    if (hasLoneSurrogate(line)) {
      out.quarantine.push(
        quarantineRow(raw, value, [], ['not valid Unicode: a lone UTF-16 surrogate (\\uD800-\\uDFFF)']),
      );
      return;
    }
    out.events.push(line);
    return;
  }
  const columns: string[] = [];
  const errors: string[] = [];
  for (const issue of parsed.error.issues) {
    const column = String(issue.path[0] ?? '');
    columns.push(column);
    const missing = (value as Record<string, unknown>)[column] === undefined;
    errors.push(missing ? `${column}: required` : `${column}: ${issue.message}`);
  }
  out.quarantine.push(quarantineRow(raw, value, columns, errors));
}

function addLine(out: IngestRows, line: string): void {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    out.quarantine.push(quarantineRow(line, undefined, [], [`not valid JSON: ${(err as Error).message}`]));
    return;
  }
  addValue(out, line, value);
}

function* lines(body: Buffer): Generator<Buffer> {
  let start = 0;
  while (start < body.length) {
    let end = body.indexOf(0x0a, start);
    if (end === -1) end = body.length;
    yield body.subarray(start, end);
    start = end + 1;
  }
}

function decodeLine(bytes: Buffer): { text: string; valid: boolean } {
  try {
    return { text: strictUtf8.decode(bytes), valid: true };
  } catch {
    return { text: lenientUtf8.decode(bytes), valid: false };
  }
}

/**
 * Turns an Events API body into rows: NDJSON (one object per line, blank lines skipped,
 * last newline optional) or one JSON document (a pretty-printed object, as curl -d with
 * the seed's example sends, or an array of objects). Lines that are not valid UTF-8, not
 * JSON, or fail the schema become quarantine rows with their reason; they never fail the
 * request.
 */
export function parseEventsBody(body: Buffer): IngestRows {
  const out: IngestRows = { events: [], quarantine: [] };
  const nonBlank = nonBlankLines(body);
  const first = nonBlank[0];
  // One JSON document spread over several lines: parse it whole. The first line's parse
  // is kept: in NDJSON it is the first row. (A canonical row is complete JSON.)
  let firstValue: { ok: true; value: unknown } | { ok: false } | undefined;
  let firstComplete = true;
  if (nonBlank.length > 1 && first) {
    if (!first.valid) firstComplete = isCompleteJson(first.text);
    else if (!isCanonicalEventLine(first.text)) {
      firstValue = tryParse(first.text);
      firstComplete = firstValue.ok;
    }
  }
  if (!firstComplete) {
    const whole = decodeLine(body);
    if (whole.valid) {
      const document = tryParse(whole.text);
      if (document.ok) {
        if (Array.isArray(document.value)) {
          for (const item of document.value) addValue(out, JSON.stringify(item), item);
        } else {
          addValue(out, whole.text.trim(), document.value);
        }
        return out;
      }
    }
  }
  for (let i = 0; i < nonBlank.length; i++) {
    const line = nonBlank[i]!;
    if (!line.valid) {
      out.quarantine.push(quarantineRow(line.text, undefined, [], ['not valid UTF-8']));
      continue;
    }
    if (nonBlank.length === 1 && line.text.startsWith('[')) {
      const document = tryParse(line.text);
      if (document.ok && Array.isArray(document.value)) {
        for (const item of document.value) addValue(out, JSON.stringify(item), item);
        continue;
      }
    }
    if (i === 0 && firstValue?.ok) addValue(out, line.text, firstValue.value);
    else if (isCanonicalEventLine(line.text)) out.events.push(line.text);
    else addLine(out, line.text);
  }
  return out;
}

/**
 * The body's non-blank lines, trimmed, each with whether it is valid UTF-8. A valid body
 * (the usual case) is decoded once and split: 0x0A never occurs inside a multi-byte
 * sequence, so its lines are exactly the valid lines a line-by-line decode finds, and
 * trim() removes a byte-order mark as the per-line decoder does.
 */
function nonBlankLines(body: Buffer): { text: string; valid: boolean }[] {
  const out: { text: string; valid: boolean }[] = [];
  let whole: string | undefined;
  try {
    whole = strictUtf8.decode(body);
  } catch {
    whole = undefined;
  }
  if (whole !== undefined) {
    for (const raw of whole.split('\n')) {
      const text = raw.trim();
      if (text) out.push({ text, valid: true });
    }
    return out;
  }
  for (const bytes of lines(body)) {
    const decoded = decodeLine(bytes);
    const text = decoded.text.trim();
    if (text) out.push({ text, valid: decoded.valid });
  }
  return out;
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function isCompleteJson(text: string): boolean {
  return tryParse(text).ok;
}
