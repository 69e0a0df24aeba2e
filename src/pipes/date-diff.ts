import { DateFormatError, parseWithFormat } from './date-format.js';
import { RequestError } from './errors.js';

const UNIT_MS: Record<string, number> = {
  day_diff: 86_400_000,
  date_diff_in_days: 86_400_000,
  date_diff_in_hours: 3_600_000,
  date_diff_in_minutes: 60_000,
  date_diff_in_seconds: 1000,
};

// Without a date_format we keep accepting both 'YYYY-MM-DD' and 'YYYY-MM-DD HH:MM:SS' (and
// ISO 8601 with T/Z) for every function: Tinybird takes only its one default format
// (%Y-%m-%d for days, %Y-%m-%d %H:%M:%S otherwise) and errors on the other; accepting both
// answers every call Tinybird answers, identically.
const LENIENT = ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d', '%Y-%m-%dT%H:%M:%Sz', '%Y-%m-%dT%H:%M:%S.%fz'];

export interface DateDiffOptions {
  /** date_format: a Python strptime format; when given, only it (and backup) are tried. */
  format?: string;
  /** backup_date_format: tried when format does not match. */
  backup?: string;
  /** none_if_error: answer null instead of an error when a date does not match. */
  noneIfError?: boolean;
}

/**
 * Tinybird's day_diff and date_diff_in_*: the absolute difference of two dates in whole
 * units (truncated), each date read with date_format or else backup_date_format.
 */
export function dateDiff(fn: string, a: unknown, b: unknown, o: DateDiffOptions): number | null {
  const unit = UNIT_MS[fn] as number;
  const formats = o.format
    ? [o.format, ...(o.backup ? [o.backup] : [])]
    : [...LENIENT, ...(o.backup ? [o.backup] : [])];
  const read = (v: unknown) => {
    const s = String(v ?? '');
    try {
      for (const f of formats) {
        const t = parseWithFormat(s, f);
        if (t !== undefined) return t;
      }
    } catch (err) {
      if (err instanceof DateFormatError) throw new RequestError(`${fn}(): ${err.message}`);
      throw err;
    }
    return undefined;
  };
  const ta = read(a);
  const tb = read(b);
  if (ta === undefined || tb === undefined) {
    if (o.noneIfError) return null;
    const bad = String(ta === undefined ? a : b).slice(0, 40);
    throw new RequestError(
      `${fn}(): "${bad}" does not match the date format ${formats.map((f) => `'${f}'`).join(' or ')}`,
    );
  }
  return Math.trunc(Math.abs(ta - tb) / unit);
}
