/**
 * Windows that reach back past raw-event retention (RAW_RETENTION_DAYS; docs/operations.md,
 * Retention). Pipes tagged "rollup_window" (feature_usage_summary, feature_usage_timeline)
 * read whole hours from the hourly rollup, which is kept, and only the partial hours at a
 * window's edges from the raw events, which expire. An edge older than the horizon is
 * widened to its whole hour before rendering, so that hour is read from the rollup too:
 * the answer is the same before and after the raw rows expire (it depends on the clock, not
 * on whether a merge has dropped the rows yet), exact to the hour there, exact to the
 * second within retention.
 */
import { formatUtc, intervalStart, parseUtc } from './bucket-window.js';
import { paramType } from './param-types.js';
import type { RequestParams } from './params.js';

export const ROLLUP_WINDOW_TAG = 'rollup_window';
/** The tb_var() name under which raw-reading pipes find RAW_RETENTION_DAYS (pipes/includes/retention.incl). */
export const RETENTION_VAR = 'raw_retention_days';

const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * The first whole hour all of whose raw rows are still kept (a row expires once
 * timestamp + days is past); undefined when raw rows are kept forever. Same as the SQL in
 * pipes/includes/retention.incl.
 */
export function rawHorizon(nowMs: number, days: number): number | undefined {
  if (days <= 0) return undefined;
  return Math.floor((nowMs - days * DAY) / HOUR) * HOUR + HOUR;
}

const DATETIME = paramType('DateTime');

/** A single DateTime parameter as ms, or undefined (absent, repeated or malformed: the render reports it). */
function time(request: RequestParams, name: string): number | undefined {
  const values = request.get(name);
  if (values?.length !== 1) return undefined;
  const text = DATETIME?.parse(values[0] as string);
  return typeof text === 'string' ? parseUtc(text) : undefined;
}

/**
 * The request with its window's edges that lie in hours older than the horizon widened to
 * whole hours: start_date down to the hour's start, end_date up to its last second. A
 * look-back `interval` (lookBack: the pipe takes one, as in window.incl) whose start is
 * such an edge becomes an explicit start_date.
 */
export function widenExpiredEdges(
  request: RequestParams,
  nowMs: number,
  days: number,
  lookBack: boolean,
): RequestParams {
  const horizon = rawHorizon(nowMs, days);
  if (horizon === undefined) return request;
  const out: RequestParams = new Map(request);
  const end = time(request, 'end_date');
  let start = time(request, 'start_date');
  if (start === undefined && lookBack && !request.has('start_date')) {
    const interval = request.get('interval');
    const we = request.has('end_date') ? end : nowMs - (nowMs % 1000);
    if ((interval?.length ?? 1) === 1 && we !== undefined) {
      start = intervalStart(interval?.[0], we);
      if (start !== undefined && start < horizon && start % HOUR !== 0) out.delete('interval');
    }
  }
  if (start !== undefined && start < horizon && start % HOUR !== 0)
    out.set('start_date', [formatUtc(start - (start % HOUR))]);
  if (end !== undefined && end < horizon && (end + 1000) % HOUR !== 0)
    out.set('end_date', [formatUtc(end - (end % HOUR) + HOUR - 1000)]);
  return out;
}

/** The tb_var() values pipes read: the secrets, plus the raw retention when it is on. */
export function withRetentionVar(
  vars: ReadonlyMap<string, string>,
  days: number,
): ReadonlyMap<string, string> {
  return days > 0 ? new Map([...vars, [RETENTION_VAR, String(days)]]) : vars;
}
