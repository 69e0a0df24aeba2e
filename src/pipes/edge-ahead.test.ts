import { describe, expect, it } from 'vitest';
import { splitBucketedWindow } from './bucket-window.js';
import { edgeAhead } from './edge-ahead.js';
import type { RequestParams } from './params.js';

const req = (o: Record<string, string>): RequestParams =>
  new Map(Object.entries(o).map(([k, v]) => [k, [v]]));
const at = (s: string) => Date.parse(`${s}Z`);

describe('edgeAhead', () => {
  it("gives the next second's partial first bucket, once", () => {
    const next = edgeAhead();
    const r = req({ interval: '30 day', granularity: 'day', feature_id: 'f' });
    const now = at('2026-12-01T13:32:17.400');
    const ahead = next(r, now);
    expect(ahead).toEqual(splitBucketedWindow(r, now + 1000)?.[0]);
    expect(ahead?.get('start_date')).toEqual(['2026-11-01 13:32:18']);
    expect(ahead?.get('end_date')).toEqual(['2026-11-01 23:59:59']);
    expect(ahead?.get('feature_id')).toEqual(['f']);
    expect(next(r, now + 300)).toBeUndefined(); // the same second: already asked
    expect(next(r, now + 1000)?.get('start_date')).toEqual(['2026-11-01 13:32:19']);
  });

  it('gives nothing for a fixed window, or when the cut changes shape within the second', () => {
    const next = edgeAhead();
    expect(
      next(req({ start_date: '2026-11-01 10:00:00', end_date: '2026-11-20 00:00:00' }), Date.now()),
    ).toBe(undefined);
    // One second before the start reaches a bucket edge: the next cut has no partial first bucket.
    const r = req({ interval: '30 day', granularity: 'day' });
    expect(next(r, at('2026-12-01T23:59:59.000'))).toBeUndefined();
    // A start on an hour with hour buckets: no partial first bucket now, one a second later.
    expect(
      next(req({ interval: '6 hour', granularity: 'hour' }), at('2026-12-01T12:00:00.000')),
    ).toBeUndefined();
  });
});
