import { MAX_ID_LENGTH, MAX_METADATA_LENGTH } from './row-schema.js';
import { normalizeTimestamp } from './timestamp.js';

/**
 * The hot path of row validation: the JSONEachRow line featureEventSchema would produce
 * for `value`, for rows in the usual shape (string ids and timestamp, metadata a string
 * or absent), without running zod. Anything else returns undefined and the caller asks
 * zod, which stays the schema of record and the only source of error messages: this
 * function only ever answers for a row zod accepts, with exactly zod's output
 * (rows.test.ts checks the two agree).
 */
export function fastEventLine(value: Record<string, unknown>, raw?: string): string | undefined {
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
  if (
    raw !== undefined &&
    isCanonical(value, raw, timestamp === ts && typeof s === 'string' && typeof m === 'string')
  ) {
    return raw;
  }
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

const KEYS = [
  'event_id',
  'user_id',
  'feature_id',
  'product_version',
  'event_type',
  'timestamp',
  'session_id',
  'metadata',
] as const;
// {"k":"v",...}: braces, 7 commas, and per key its name plus two pairs of quotes and a colon.
const FIXED_LENGTH = 2 + 7 + KEYS.reduce((n, k) => n + k.length + 5, 0);

/**
 * Whether `raw`, the JSON text `value` was parsed from, is already byte for byte what
 * JSON.stringify would write for the output row, so it can be stored as sent: every
 * column present as a string equal to its output (`same`: timestamp already normal,
 * session_id and metadata strings; ids are checked here), in the schema's key order, no
 * other key, and no escape sequence (no backslash). Without escapes a string's source
 * is its value between quotes, so the shortest text of that object, the one with no
 * whitespace and no repeated key, has exactly FIXED_LENGTH + the values' lengths
 * characters, and it is what JSON.stringify writes. `raw` must be decoded UTF-8 text
 * (no lone surrogates, which JSON.stringify would escape).
 */
function isCanonical(value: Record<string, unknown>, raw: string, same: boolean): boolean {
  if (!same) return false;
  let length = FIXED_LENGTH;
  let i = 0;
  for (const key in value) {
    if (key !== KEYS[i]) return false;
    const v = value[key];
    if (typeof v !== 'string') return false;
    length += v.length;
    i++;
  }
  return i === KEYS.length && raw.length === length && !raw.includes('\\');
}
