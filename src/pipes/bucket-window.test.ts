import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketStart, formatUtc, splitBucketedWindow } from './bucket-window.js';
import type { RequestParams } from './params.js';

const req = (o: Record<string, string | string[]>): RequestParams =>
  new Map(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
const at = (s: string) => Date.parse(`${s.replace(' ', 'T')}Z`);
const bounds = (w: RequestParams) => [w.get('start_date')?.[0], w.get('end_date')?.[0]];

describe('splitBucketedWindow', () => {
  it('cuts a 30-day daily window into the partial first day, the settled days and today', () => {
    const windows = splitBucketedWindow(
      req({ interval: '30 day', feature_id: ['a', 'b'] }),
      at('2026-12-01 01:45:53') + 400,
    );
    expect(windows?.map(bounds)).toEqual([
      ['2026-11-01 01:45:53', '2026-11-01 23:59:59'],
      ['2026-11-02 00:00:00', '2026-11-30 23:59:59'],
      ['2026-12-01 00:00:00', '2026-12-01 01:45:53'],
    ]);
    // Other parameters are kept, interval is replaced by the explicit window.
    expect(windows?.[1]?.get('feature_id')).toEqual(['a', 'b']);
    expect(windows?.[1]?.has('interval')).toBe(false);
  });

  it('subtracts months as ClickHouse does (the day is clamped to the month’s last)', () => {
    const windows = splitBucketedWindow(
      req({ interval: '1 month', granularity: 'week' }),
      at('2026-03-31 12:00:00'),
    );
    expect(windows?.[0]?.get('start_date')).toEqual(['2026-02-28 12:00:00']);
    expect(windows?.map(bounds)).toEqual([
      ['2026-02-28 12:00:00', '2026-03-01 23:59:59'], // Monday 2026-02-23's week, from the window start
      ['2026-03-02 00:00:00', '2026-03-29 23:59:59'],
      ['2026-03-30 00:00:00', '2026-03-31 12:00:00'],
    ]);
  });

  it('leaves alone what it cannot cut: a fixed end, bad or repeated values, no settled bucket', () => {
    const now = at('2026-12-01 01:45:53');
    expect(splitBucketedWindow(req({ end_date: '2026-11-30 00:00:00' }), now)).toBeUndefined();
    expect(splitBucketedWindow(req({ interval: 'yesterday' }), now)).toBeUndefined();
    expect(splitBucketedWindow(req({ granularity: 'year' }), now)).toBeUndefined();
    expect(splitBucketedWindow(req({ granularity: ['day', 'hour'] }), now)).toBeUndefined();
    expect(splitBucketedWindow(req({ start_date: '2026-02-30' }), now)).toBeUndefined();
    expect(splitBucketedWindow(req({ interval: '20 hour' }), now)).toBeUndefined();
    expect(splitBucketedWindow(req({ start_date: '2027-01-01 00:00:00' }), now)).toBeUndefined();
  });

  it('always tiles [start, now] exactly, with every inner edge on a bucket boundary', () => {
    const granularities = ['hour', 'day', 'week', 'month'] as const;
    fc.assert(
      fc.property(
        fc.integer({ min: at('2001-01-01 00:00:00') / 1000, max: at('2090-01-01 00:00:00') / 1000 }),
        fc.integer({ min: 1, max: 400 }),
        fc.constantFrom('hour', 'day', 'week', 'month'),
        fc.constantFrom(...granularities),
        fc.boolean(),
        (nowS, n, unit, granularity, aligned) => {
          const now = nowS * 1000 + 123;
          const interval = `${n} ${unit}`;
          // Sometimes a start_date on a bucket boundary instead of an interval.
          const start = aligned ? formatUtc(bucketStart(now - n * 86_400_000, granularity)) : undefined;
          const windows = splitBucketedWindow(
            req(start ? { start_date: start, granularity } : { interval, granularity }),
            now,
          );
          if (!windows) return;
          const spans = windows.map((w) => bounds(w).map((s) => at(s as string)) as [number, number]);
          expect(spans.length).toBeGreaterThanOrEqual(1);
          expect(spans.at(-1)?.[1]).toBe(nowS * 1000);
          if (start) expect(spans[0]?.[0]).toBe(at(start));
          for (let i = 0; i < spans.length; i++) {
            const [from, to] = spans[i] as [number, number];
            expect(from).toBeLessThanOrEqual(to);
            if (i > 0) {
              expect(from).toBe((spans[i - 1] as [number, number])[1] + 1000);
              expect(bucketStart(from, granularity)).toBe(from);
            }
          }
          // One window (the settled one) holds whole buckets only.
          const whole = spans.filter(
            ([from, to]) =>
              bucketStart(from, granularity) === from && bucketStart(to + 1000, granularity) === to + 1000,
          );
          expect(whole.length).toBeGreaterThanOrEqual(1);
        },
      ),
    );
  });
});
