/**
 * A look-back window ending now, cut at bucket boundaries (issue 15). A bucketed answer
 * (one row per hour, day, week or month) over "the last 30 days" changes every second, but
 * only in its first and last bucket: the buckets between lie wholly in the past and change
 * only when rows are stored. So the request is answered as up to three requests with explicit
 * windows: the partial first bucket, the settled buckets between (an answer that does not
 * read the clock, kept by the result cache until the next insert), and the moving last bucket.
 * The rows of the three, in order, are the rows of the whole window.
 *
 * Only for pipes tagged "bucketed_window" (see docs/pipes.md), whose rows are ordered by
 * bucket first, with parameters start_date, end_date, interval and granularity as in
 * pipes/includes/window.incl.
 */
import type { RequestParams } from './params.js';

export const BUCKETED_WINDOW_TAG = 'bucketed_window';

const GRANULARITIES = ['hour', 'day', 'week', 'month'] as const;
type Granularity = (typeof GRANULARITIES)[number];
const HOUR = 3_600_000;
const DAY = 86_400_000;
const INTERVAL_RE = /^([1-9][0-9]{0,3}) (hour|day|week|month)s?$/;
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2}))?$/;

/** ms since the epoch of 'YYYY-MM-DD[ HH:MM:SS]' (UTC), or undefined for anything else. */
export function parseUtc(raw: string): number | undefined {
  const m = raw.match(DATETIME_RE);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((k) => Number(m[k] ?? 0)) as number[];
  const t = Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
  return new Date(t).getUTCDate() === d ? t : undefined;
}

export function formatUtc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** ClickHouse's `t - toIntervalMonth(n)`: the same day of month, or the month's last day. */
function minusMonths(t: number, n: number): number {
  const d = new Date(t);
  const first = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - n, 1);
  const f = new Date(first);
  const lastDay = new Date(Date.UTC(f.getUTCFullYear(), f.getUTCMonth() + 1, 0)).getUTCDate();
  return first + (Math.min(d.getUTCDate(), lastDay) - 1) * DAY + (t % DAY);
}

/** The start of a look-back `interval` ('30 day', window.incl's default) ending at `end`, as the pipe computes it. */
export function intervalStart(interval: string | undefined, end: number): number | undefined {
  const m = (interval ?? '30 day').match(INTERVAL_RE);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] as Granularity;
  return unit === 'month' ? minusMonths(end, n) : end - n * { hour: HOUR, day: DAY, week: 7 * DAY }[unit];
}

export function bucketStart(t: number, g: Granularity): number {
  if (g === 'hour') return t - (t % HOUR);
  const day = Math.floor(t / DAY);
  if (g === 'day') return day * DAY;
  if (g === 'week') return (day - ((day + 3) % 7)) * DAY; // day 0 (1970-01-01) was a Thursday
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function nextBucket(b: number, g: Granularity): number {
  if (g === 'hour') return b + HOUR;
  if (g === 'day') return b + DAY;
  if (g === 'week') return b + 7 * DAY;
  const d = new Date(b);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

const single = (request: RequestParams, name: string): string | undefined | null => {
  const values = request.get(name);
  if (!values) return undefined;
  return values.length === 1 ? (values[0] as string) : null;
};

/**
 * The request as windows with explicit bounds, in bucket order; undefined when it is not a
 * moving window with settled buckets in it (an end_date was given, a value is malformed — the
 * whole request then reports it —, or the window is shorter than two bucket edges).
 */
export function splitBucketedWindow(request: RequestParams, nowMs: number): RequestParams[] | undefined {
  if (request.has('end_date')) return undefined; // fixed window: its answer does not read the clock
  const g = single(request, 'granularity');
  if (g === null || (g !== undefined && !(GRANULARITIES as readonly string[]).includes(g))) return undefined;
  const granularity = (g ?? 'day') as Granularity;
  const we = nowMs - (nowMs % 1000);
  let ws: number | undefined;
  const start = single(request, 'start_date');
  if (start === null) return undefined;
  if (start !== undefined) ws = parseUtc(start.trim());
  else {
    const interval = single(request, 'interval');
    if (interval === null) return undefined;
    ws = intervalStart(interval, we);
  }
  if (ws === undefined || ws > we) return undefined;
  const b = bucketStart(ws, granularity);
  const firstSettled = b === ws ? ws : nextBucket(b, granularity);
  const moving = bucketStart(we + 1000, granularity);
  if (firstSettled >= moving) return undefined;
  const windows: Array<[number, number]> = [];
  if (ws < firstSettled) windows.push([ws, firstSettled - 1000]);
  windows.push([firstSettled, moving - 1000]);
  if (moving <= we) windows.push([moving, we]);
  return windows.map(([from, to]) => {
    const sub: RequestParams = new Map(request);
    sub.delete('interval');
    sub.set('start_date', [formatUtc(from)]);
    sub.set('end_date', [formatUtc(to)]);
    return sub;
  });
}

/**
 * The split's last window as [bucket start, now()] (no end_date, so its key does not move
 * with the clock) with the moment its bucket ends, when the last window is the moving bucket;
 * undefined otherwise. For pipes whose data has no row later than now (moving-end.ts).
 */
export function openMovingWindow(
  windows: RequestParams[],
  request: RequestParams,
  nowMs: number,
): { window: RequestParams; until: number } | undefined {
  const last = windows[windows.length - 1];
  const granularity = (single(request, 'granularity') ?? 'day') as Granularity;
  const from = last?.get('start_date')?.[0];
  if (!last || !from || !(GRANULARITIES as readonly string[]).includes(granularity)) return undefined;
  const moving = bucketStart(nowMs - (nowMs % 1000) + 1000, granularity);
  if (parseUtc(from) !== moving) return undefined;
  const window: RequestParams = new Map(last);
  window.delete('end_date');
  return { window, until: nextBucket(moving, granularity) };
}
