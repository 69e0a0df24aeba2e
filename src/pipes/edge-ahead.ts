/**
 * The next second's first window of a moving bucketed window, asked ahead (issue 15). A
 * look-back window's partial first bucket starts one second later every second, so its
 * cached answer is good for one second only, and the first request of each second waited for
 * it (at 10M events, with the timeline's middle and last bucket held until an insert, those
 * waits were the misses left). The window for second s+1 is a question with explicit bounds
 * that does not read the clock: computed during second s and kept until an insert like any
 * other, it is there when s+1 comes. Each window is asked ahead once.
 */
import { splitBucketedWindow } from './bucket-window.js';
import type { RequestParams } from './params.js';

const AHEAD_MS = 1_000;
const REMEMBERED = 1_000;

/**
 * A function giving, the first time it is called for a request in a second, that request's
 * first window one second later when it is a partial first bucket; undefined otherwise.
 */
export function edgeAhead(): (request: RequestParams, nowMs: number) => RequestParams | undefined {
  const asked = new Set<string>();
  // Requests already looked at in this second (splitting a window costs more than this check).
  let second = -1;
  const seen = new Set<string>();
  return (request, nowMs) => {
    const s = Math.floor(nowMs / 1000);
    if (s !== second) {
      second = s;
      seen.clear();
    }
    const sent = JSON.stringify([...request]);
    if (seen.has(sent)) return undefined;
    seen.add(sent);
    const now = bucketed(request, nowMs);
    const next = bucketed(request, nowMs + AHEAD_MS);
    // Only a partial first bucket that is still the first bucket a second later: the same end,
    // a later start.
    if (!now || !next || now.length !== next.length) return undefined;
    const [a, b] = [now[0], next[0]];
    if (
      a.get('end_date')?.[0] !== b.get('end_date')?.[0] ||
      a.get('start_date')?.[0] === b.get('start_date')?.[0]
    )
      return undefined;
    const key = JSON.stringify([...b.entries()]);
    if (asked.has(key)) return undefined;
    asked.add(key);
    if (asked.size > REMEMBERED) asked.delete(asked.values().next().value as string);
    return next[0];
  };
}

function bucketed(request: RequestParams, nowMs: number): [RequestParams, ...RequestParams[]] | undefined {
  const split = splitBucketedWindow(request, nowMs);
  return split && split.length > 0 ? (split as [RequestParams, ...RequestParams[]]) : undefined;
}
