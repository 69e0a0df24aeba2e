import type { IngestRows } from '../queue/types.js';
import {
  CANONICAL_MAYBE_PII,
  canonicalEventLine,
  fastEventLine,
  isCanonicalEventLine,
  NOT_CANONICAL,
} from './fast-row.js';
import { depthOver, scanJson } from './json-scan.js';
import { guardIngestRows, type PiiGuard, type ScannedLines } from './pii/index.js';
import { hasLoneSurrogate, quarantineLine } from './quarantine-row.js';
import { featureEventSchema } from './row-schema.js';

// Objects and arrays nested deeper than this (the row itself is level 1) are quarantined
// before they are parsed: serialising a metadata object, zod and the quarantine row all walk
// values recursively, and real metadata is a few levels deep.
export const MAX_JSON_DEPTH = 64;
// A row longer than this is quarantined unparsed. The largest valid row, every character
// written as a \uXXXX escape, is about 420 KB; parsing and validating megabytes of keys or
// whitespace in one row only costs time (a 5 MB metadata object with 300k keys: 1.7 s).
export const MAX_ROW_CHARS = 1024 * 1024;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

/** Validates one parsed value and files it as an event line or a quarantine line. */
function addValue(out: IngestRows, raw: string, value: unknown): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    out.quarantine.push(quarantineLine(raw, undefined, [], ['a row must be a JSON object']));
    return;
  }
  const fast = fastEventLine(value as Record<string, unknown>);
  const parsed = fast === undefined ? featureEventSchema.safeParse(value) : undefined;
  if (parsed === undefined || parsed.success) {
    const line = parsed === undefined ? (fast as string) : JSON.stringify(parsed.data);
    if (hasLoneSurrogate(line)) {
      out.quarantine.push(
        quarantineLine(raw, value, [], ['not valid Unicode: a lone UTF-16 surrogate (\\uD800-\\uDFFF)']),
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
  out.quarantine.push(quarantineLine(raw, value, columns, errors));
}

/**
 * One row's text (an NDJSON line, an array item, a whole document) to an event line or a
 * quarantine line. `parsed` is its JSON.parse result when the caller already has it.
 * Whatever goes wrong with one row is that row's problem: it is quarantined with the
 * reason, and never fails the request.
 */
function addText(out: IngestRows, text: string, parsed?: { value: unknown }): void {
  const reject = (reason: string) => out.quarantine.push(quarantineLine(text, undefined, [], [reason]));
  try {
    if (text.length > MAX_ROW_CHARS) return void reject(`a row longer than ${MAX_ROW_CHARS} characters`);
    const depth = depthOver(text, MAX_JSON_DEPTH);
    if (depth !== undefined) return void reject(`nested deeper than ${MAX_JSON_DEPTH} levels (${depth})`);
    let value: unknown;
    if (parsed) value = parsed.value;
    else {
      try {
        value = JSON.parse(text);
      } catch (err) {
        return void reject(`not valid JSON: ${(err as Error).message}`);
      }
    }
    addValue(out, text, value);
  } catch (err) {
    // A bug of ours that this row triggers: still the row's, not the request's, failure.
    reject(`could not process the row: ${(err as Error).message}`);
  }
}

/** The items of a JSON array document, each as its own row with its text as sent. */
function addArrayItems(out: IngestRows, text: string, items = scanJson(text).items ?? []): void {
  for (const [start, end] of items) addText(out, text.slice(start, end));
}

type Parsed = { ok: true; value: unknown } | { ok: false; tooDeep?: { items?: [number, number][] } };

/**
 * JSON.parse, refused before it runs for text nested deeper than `maxDepth`: V8 parses
 * deep text without overflowing, but slowly (a 2 MB body nested a million deep: 0.7 s),
 * and such a value is quarantined anyway. A too-deep array that is one whole value still
 * gives its items, taken one by one.
 */
function parseBounded(text: string, maxDepth: number): Parsed {
  if (depthOver(text, maxDepth) === undefined) return tryParse(text);
  const shape = scanJson(text);
  return { ok: false, tooDeep: { items: shape.single ? shape.items : undefined } };
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
 * request. With a PII guard (src/ingest/pii), personal data is redacted from the rows, or
 * their rows quarantined, by its policy. `lines`: the body is a slice of an NDJSON body
 * (slices.ts), read line by line only, as the whole body's lines would be.
 */
export function parseEventsBody(body: Buffer, pii?: PiiGuard, opts: { lines?: boolean } = {}): ParsedRows {
  const scanned = pii ? { walk: [], check: [] } : undefined;
  const rows = splitEventsBody(body, pii, scanned, opts.lines === true);
  // After validation, so the guard sees each row once, in the form that would be stored.
  const redacted = pii ? guardIngestRows(pii, rows, scanned) : 0;
  return { events: rows.events, quarantine: rows.quarantine, redacted };
}

/** Rows of a body, and how many of them the PII guard changed (counted in the reply). */
export interface ParsedRows extends IngestRows {
  redacted: number;
}

/** Event lines from `from` on came from the general path: the guard knows nothing of them. */
function unscanned(out: IngestRows, scanned: ScannedLines | undefined, from: number): void {
  if (scanned) for (let i = from; i < out.events.length; i++) scanned.check.push(i);
}

/**
 * With a PII guard, canonical lines are checked for personal data in the pass that
 * validates them, and `scanned` records which event lines the guard must still look at.
 */
function splitEventsBody(
  body: Buffer,
  pii: PiiGuard | undefined,
  scanned: ScannedLines | undefined,
  linesOnly: boolean,
): IngestRows {
  const out: IngestRows = { events: [], quarantine: [] };
  const nonBlank = nonBlankLines(body);
  const first = nonBlank[0];
  // One JSON document spread over several lines: parse it whole. The first line's parse
  // is kept: in NDJSON it is the first row. (A canonical row is complete JSON.)
  let firstValue: Parsed | undefined;
  let firstComplete = true;
  if (!linesOnly && nonBlank.length > 1 && first && (!first.valid || !isCanonicalEventLine(first.text))) {
    // A first line too deep to parse is taken as a row of its own (quarantined).
    firstValue = parseBounded(first.text, MAX_JSON_DEPTH);
    firstComplete = firstValue.ok || firstValue.tooDeep !== undefined;
    if (!first.valid) firstValue = undefined;
  }
  if (!firstComplete) {
    const whole = decodeLine(body);
    if (whole.valid) {
      // +1: an array document's items are rows, one level down.
      const document = parseBounded(whole.text, MAX_JSON_DEPTH + 1);
      if (document.ok) {
        if (Array.isArray(document.value)) addArrayItems(out, whole.text);
        else addText(out, whole.text.trim(), document);
        unscanned(out, scanned, 0);
        return out;
      }
      if (document.tooDeep && scanJson(whole.text).single) {
        if (document.tooDeep.items) addArrayItems(out, whole.text, document.tooDeep.items);
        else addText(out, whole.text.trim());
        unscanned(out, scanned, 0);
        return out;
      }
    }
  }
  for (let i = 0; i < nonBlank.length; i++) {
    const line = nonBlank[i]!;
    const before = out.events.length;
    if (!line.valid) {
      out.quarantine.push(quarantineLine(line.text, undefined, [], ['not valid UTF-8']));
      continue;
    }
    if (!linesOnly && nonBlank.length === 1 && line.text.startsWith('[')) {
      const document = parseBounded(line.text, MAX_JSON_DEPTH + 1);
      if (document.ok && Array.isArray(document.value)) {
        addArrayItems(out, line.text);
        unscanned(out, scanned, before);
        continue;
      }
      if (!document.ok && document.tooDeep?.items) {
        addArrayItems(out, line.text, document.tooDeep.items);
        unscanned(out, scanned, before);
        continue;
      }
    }
    const canonical =
      i === 0 && firstValue?.ok ? NOT_CANONICAL : canonicalEventLine(line.text, pii?.denyKeyTrie);
    if (canonical !== NOT_CANONICAL) {
      if (canonical === CANONICAL_MAYBE_PII) scanned?.walk.push(before);
      out.events.push(line.text);
    } else {
      if (i === 0 && firstValue?.ok) addText(out, line.text, firstValue);
      else addText(out, line.text);
      unscanned(out, scanned, before);
    }
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
