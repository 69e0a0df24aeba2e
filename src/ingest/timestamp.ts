// Accepted timestamp forms (Tinybird clients send both): "YYYY-MM-DD HH:MM:SS" (taken as
// UTC) and ISO 8601 with optional fraction and zone ("2023-10-15T14:35:22.123Z",
// "2023-10-15T16:35:22+02:00"). Stored as UTC seconds; the fraction is dropped because
// the column is DateTime (second precision is what every endpoint groups by).
const PATTERN = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

// DateTime's range in ClickHouse is 1970-01-01 .. 2106-02-07.
const MIN_SECONDS = 0;
const MAX_SECONDS = 4294967295;

/** Returns "YYYY-MM-DD HH:MM:SS" in UTC, or undefined when the text is not a valid timestamp. */
export function normalizeTimestamp(text: string): string | undefined {
  if (isPlainUtc(text)) return text;
  const m = PATTERN.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, , zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  let ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls Feb 30 over into March: reject dates that do not exist.
  if (new Date(ms).getUTCDate() !== day) return undefined;
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  const seconds = ms / 1000;
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) return undefined;
  if (!zone || zone === 'Z') {
    return `${y}-${mo}-${d} ${h}:${mi}:${s}`;
  }
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The usual form, checked without the regex and Date: "YYYY-MM-DD HH:MM:SS" that is a
 * real date in 1970-2105 (wholly inside DateTime's range), which normalizes to itself.
 * false sends everything else, valid or not, through the general path.
 */
function isPlainUtc(t: string): boolean {
  if (t.length !== 19) return false;
  if (t.charCodeAt(4) !== 45 || t.charCodeAt(7) !== 45 || t.charCodeAt(10) !== 32) return false;
  if (t.charCodeAt(13) !== 58 || t.charCodeAt(16) !== 58) return false;
  const year = digits(t, 0, 4);
  const month = digits(t, 5, 2);
  const day = digits(t, 8, 2);
  const hour = digits(t, 11, 2);
  const minute = digits(t, 14, 2);
  const second = digits(t, 17, 2);
  if (year < 1970 || year > 2105 || month < 1 || month > 12 || day < 1) return false;
  if (hour > 23 || minute > 59 || second > 59) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number));
}

/** The number written by `n` ASCII digits at `from`, or -1 if one is not a digit. */
function digits(t: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const d = t.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}
