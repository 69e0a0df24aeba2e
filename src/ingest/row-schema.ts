import { z } from 'zod';
import { normalizeTimestamp } from './timestamp.js';

// Bounds that keep one bad client from bloating the table: ids are short keys, metadata
// is a small JSON document. Larger values are quarantined with the reason, not truncated.
export const MAX_ID_LENGTH = 512;
export const MAX_METADATA_LENGTH = 64 * 1024;

// Ids arrive as strings, but some trackers send numeric ids: accept both, store text.
const idText = () =>
  z
    .union([z.string(), z.number().finite()])
    .transform((v) => String(v))
    .pipe(z.string().max(MAX_ID_LENGTH, `longer than ${MAX_ID_LENGTH} characters`));

const id = (required: boolean) => {
  const base = idText();
  const checked = required ? base.pipe(z.string().min(1, 'empty')) : base;
  return required ? checked : checked.optional().default('');
};

// Absent stays absent (ClickHouse fills the column's DEFAULT ''), so a row from a client
// that does not know the column serialises exactly as before and keeps the fast path.
const optionalId = idText().optional();

const timestamp = z.string().transform((value, ctx) => {
  const normalized = normalizeTimestamp(value);
  if (normalized === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value.slice(0, 40)}" is not a timestamp: expected YYYY-MM-DD HH:MM:SS or ISO 8601 (2023-10-15T14:35:22Z), between 1970 and 2106`,
    });
    return z.NEVER;
  }
  return normalized;
});

// metadata is stored as the JSON string it arrives as; an object is serialised once.
const metadata = z
  .union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())])
  .nullish()
  .transform((v) => (v == null ? '' : typeof v === 'string' ? v : JSON.stringify(v)))
  .pipe(z.string().max(MAX_METADATA_LENGTH, `longer than ${MAX_METADATA_LENGTH} characters`));

/** One feature_events row as posted; the output is what ClickHouse stores. */
export const featureEventSchema = z.object({
  event_id: id(true),
  user_id: id(true),
  feature_id: id(true),
  product_version: id(true),
  event_type: id(true),
  timestamp,
  session_id: id(false),
  metadata: metadata.optional().default(''),
  // Last, so the eight columns of a Tinybird client's row are a prefix of the canonical line.
  account_id: optionalId,
});

export type FeatureEvent = z.output<typeof featureEventSchema>;

export const FEATURE_EVENT_COLUMNS = Object.keys(featureEventSchema.shape) as (keyof FeatureEvent)[];
