import type { DenyKeyTrie } from './pii/key-trie.js';
import { type StringScan, scanString } from './pii/string-scan.js';
import { FEATURE_EVENT_COLUMNS, MAX_ID_LENGTH, MAX_METADATA_LENGTH } from './row-schema.js';
import { normalizeTimestamp } from './timestamp.js';

/**
 * The hot path of row validation: the JSONEachRow line featureEventSchema would produce
 * for `value`, for rows in the usual shape (string ids and timestamp, metadata a string
 * or absent), without running zod. Anything else returns undefined and the caller asks
 * zod, which stays the schema of record and the only source of error messages: this
 * function only ever answers for a row zod accepts, with exactly zod's output
 * (rows.test.ts checks the two agree).
 */
export function fastEventLine(value: Record<string, unknown>): string | undefined {
  const event_id = requiredId(value.event_id);
  if (event_id === undefined) return undefined;
  const user_id = requiredId(value.user_id);
  if (user_id === undefined) return undefined;
  const feature_id = requiredId(value.feature_id);
  if (feature_id === undefined) return undefined;
  const product_version = requiredId(value.product_version);
  if (product_version === undefined) return undefined;
  const event_type = requiredId(value.event_type);
  if (event_type === undefined) return undefined;
  const ts = value.timestamp;
  if (typeof ts !== 'string') return undefined;
  const timestamp = normalizeTimestamp(ts);
  if (timestamp === undefined) return undefined;
  const s = value.session_id;
  const session_id = s === undefined ? '' : optionalId(s);
  if (session_id === undefined) return undefined;
  const m = value.metadata;
  let metadata: string;
  if (m === undefined || m === null) metadata = '';
  else if (typeof m === 'string' && m.length <= MAX_METADATA_LENGTH) metadata = m;
  else return undefined; // objects, arrays and errors: zod
  const a = value.account_id;
  // Absent stays absent, as in zod's output (ClickHouse fills DEFAULT '').
  const account_id = a === undefined ? undefined : optionalId(a);
  if (a !== undefined && account_id === undefined) return undefined;
  // Key order is the schema's, as zod's output object has it.
  return JSON.stringify({
    event_id,
    user_id,
    feature_id,
    product_version,
    event_type,
    timestamp,
    session_id,
    metadata,
    account_id,
  });
}

function requiredId(v: unknown): string | undefined {
  const text = optionalId(v);
  return text === '' ? undefined : text;
}

function optionalId(v: unknown): string | undefined {
  let text: string;
  if (typeof v === 'string') text = v;
  else if (typeof v === 'number' && Number.isFinite(v)) text = String(v);
  else return undefined;
  return text.length <= MAX_ID_LENGTH ? text : undefined;
}

// Prefixes of each column in a canonical line: {"event_id":"…","user_id":"…",…}
const PREFIXES = FEATURE_EVENT_COLUMNS.map((k, i) => `${i === 0 ? '{' : ','}"${k}":"`);
const METADATA = FEATURE_EVENT_COLUMNS.indexOf('metadata');
// Columns from here on are optional (absent when the client did not send them).
const OPTIONAL_FROM = FEATURE_EVENT_COLUMNS.indexOf('account_id');
// A control character is invalid inside a JSON string (and outside one, JSON.stringify
// writes no whitespace).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f]/;

/** canonicalEventLine's verdicts. */
export const NOT_CANONICAL = 0;
export const CANONICAL = 1;
/** Canonical, and the PII guard's walk could find something in it. */
export const CANONICAL_MAYBE_PII = 2;

// One scan result, reused: the scan allocates nothing.
const METADATA_SCAN: StringScan = { end: 0, escapes: 0, maybePii: false };

/**
 * Whether a line is a valid row exactly as JSON.stringify writes featureEventSchema's
 * output for it, decided by scanning, without JSON.parse: the usual NDJSON row from a
 * JSON.stringify-based tracker, which can be stored as sent. That is: the eight columns
 * as strings in the schema's order (plus account_id last, when sent), nothing else, no
 * whitespace, and no escapes but \" and \\ (the only ones JSON.stringify writes for
 * text with no control characters and no lone surrogates). true means JSON.parse + featureEventSchema + JSON.stringify would
 * give the line itself; false decides nothing (the caller takes the general path).
 * `line` must be decoded UTF-8 text (so it holds no lone surrogate).
 */
export function isCanonicalEventLine(line: string): boolean {
  return canonicalEventLine(line) !== NOT_CANONICAL;
}

/**
 * isCanonicalEventLine, and with the PII guard's deny keys, in the same pass, whether the
 * guard could find personal data in the row (src/ingest/pii/string-scan.ts): CANONICAL
 * then says it cannot, CANONICAL_MAYBE_PII that the guard's walk must look.
 */
export function canonicalEventLine(line: string, denyKeys?: DenyKeyTrie): number {
  if (CONTROL.test(line)) return NOT_CANONICAL;
  let maybePii = false;
  let pos = 0;
  for (let i = 0; i < PREFIXES.length; i++) {
    // account_id is optional: a row may end after metadata.
    if (i === OPTIONAL_FROM && pos === line.length - 1) break;
    const prefix = PREFIXES[i] as string;
    if (!line.startsWith(prefix, pos)) return NOT_CANONICAL;
    const start = pos + prefix.length;
    // The string's end and its length once unescaped.
    let end = start;
    let escapes = 0;
    if (i === METADATA && denyKeys !== undefined) {
      scanString(line, start, denyKeys, METADATA_SCAN);
      if (METADATA_SCAN.end < 0) return NOT_CANONICAL;
      end = METADATA_SCAN.end;
      escapes = METADATA_SCAN.escapes;
      maybePii = METADATA_SCAN.maybePii;
    } else
      for (;;) {
        const c = line.charCodeAt(end);
        if (c === 34) break; // "
        if (c === 92) {
          // \ : only \" and \\ are what JSON.stringify would write
          const next = line.charCodeAt(end + 1);
          if (next !== 34 && next !== 92) return NOT_CANONICAL;
          escapes++;
          end += 2;
          continue;
        }
        if (Number.isNaN(c)) return NOT_CANONICAL; // ran off the end
        end++;
      }
    const length = end - start - escapes;
    if (i < 5) {
      if (length < 1 || length > MAX_ID_LENGTH) return NOT_CANONICAL;
    } else if (i === 5) {
      const ts = line.slice(start, end);
      if (escapes > 0 || normalizeTimestamp(ts) !== ts) return NOT_CANONICAL;
    } else if (length > (i === METADATA ? MAX_METADATA_LENGTH : MAX_ID_LENGTH)) return NOT_CANONICAL;
    pos = end + 1;
  }
  if (pos !== line.length - 1 || line.charCodeAt(pos) !== 125) return NOT_CANONICAL; // }
  // The other columns the guard reads are user_id and account_id: an e-mail address there.
  if (denyKeys !== undefined && (maybePii || line.includes('@'))) return CANONICAL_MAYBE_PII;
  return CANONICAL;
}
