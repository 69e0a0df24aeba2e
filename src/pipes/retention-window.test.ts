import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatUtc } from './bucket-window.js';
import type { RequestParams } from './params.js';
import { rawHorizon, widenExpiredEdges, withRetentionVar } from './retention-window.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const at = (s: string) => Date.parse(`${s.replace(' ', 'T')}Z`);
const req = (o: Record<string, string>): RequestParams =>
  new Map(Object.entries(o).map(([k, v]) => [k, [v]]));
const NOW = at('2026-12-01 04:30:10') + 250;
// Whole seconds between 2020 and 2027.
const second = fc
  .integer({ min: at('2020-01-01 00:00:00') / 1000, max: at('2027-01-01 00:00:00') / 1000 })
  .map((s) => s * 1000);

describe('rawHorizon', () => {
  it('is the first whole hour after now minus the retention; none when kept forever', () => {
    expect(formatUtc(rawHorizon(NOW, 90) as number)).toBe('2026-09-02 05:00:00');
    expect(rawHorizon(NOW, 0)).toBeUndefined();
    fc.assert(
      fc.property(second, fc.integer({ min: 1, max: 36_500 }), (now, days) => {
        const h = rawHorizon(now, days) as number;
        expect(Math.abs(h % HOUR)).toBe(0);
        // Every row from h on is younger than the retention; the hour before may not be.
        expect(h).toBeGreaterThan(now - days * DAY);
        expect(h - HOUR).toBeLessThanOrEqual(now - days * DAY);
      }),
    );
  });
});

describe('widenExpiredEdges', () => {
  it('widens edges older than the horizon to whole hours and leaves the rest as sent', () => {
    fc.assert(
      fc.property(second, second, fc.integer({ min: 1, max: 2_000 }), (a, b, days) => {
        const [s, e] = a <= b ? [a, b] : [b, a];
        const request = req({ start_date: formatUtc(s), end_date: formatUtc(e), feature_id: 'f' });
        const out = widenExpiredEdges(request, NOW, days, true);
        const horizon = rawHorizon(NOW, days) as number;
        const s2 = at(out.get('start_date')?.[0] as string);
        const e2 = at(out.get('end_date')?.[0] as string);
        expect(out.get('feature_id')).toEqual(['f']);
        if (s >= horizon) expect(s2).toBe(s);
        else {
          expect(s2 % HOUR).toBe(0);
          expect(s2).toBeLessThanOrEqual(s);
          expect(s - s2).toBeLessThan(HOUR);
        }
        if (e >= horizon) expect(e2).toBe(e);
        else {
          expect((e2 + 1000) % HOUR).toBe(0);
          expect(e2).toBeGreaterThanOrEqual(e);
          expect(e2 - e).toBeLessThan(HOUR);
        }
      }),
    );
  });

  it('turns a look-back interval reaching past the horizon into an explicit start_date', () => {
    const out = widenExpiredEdges(req({ interval: '365 day' }), NOW, 90, true);
    expect(out.get('start_date')).toEqual(['2025-12-01 04:00:00']);
    expect(out.has('interval')).toBe(false);
    // Within retention, or a pipe without a look-back: as sent.
    expect(widenExpiredEdges(req({ interval: '30 day' }), NOW, 90, true)).toEqual(
      req({ interval: '30 day' }),
    );
    expect(widenExpiredEdges(req({ interval: '365 day' }), NOW, 90, false)).toEqual(
      req({ interval: '365 day' }),
    );
    // The look-back ends at end_date when one is given (window.incl).
    const ended = widenExpiredEdges(
      req({ interval: '2 day', end_date: '2025-01-10 10:20:30' }),
      NOW,
      90,
      true,
    );
    expect([ended.get('start_date'), ended.get('end_date')]).toEqual([
      ['2025-01-08 10:00:00'],
      ['2025-01-10 10:59:59'],
    ]);
  });

  it('takes the date forms the DateTime parameter takes; leaves what it cannot read to the render', () => {
    const out = widenExpiredEdges(req({ start_date: '2024-03-04T05:06Z' }), NOW, 90, false);
    expect(out.get('start_date')).toEqual(['2024-03-04 05:00:00']);
    for (const bad of ['yesterday', '2024-02-30 00:00:00', ''])
      expect(widenExpiredEdges(req({ start_date: bad }), NOW, 90, true)).toEqual(req({ start_date: bad }));
    const twice: RequestParams = new Map([['start_date', ['2024-01-01 00:30:00', '2024-01-02 00:30:00']]]);
    expect(widenExpiredEdges(twice, NOW, 90, true)).toEqual(twice);
  });

  it('changes nothing when raw events are kept forever', () => {
    const request = req({ start_date: '2001-01-01 00:00:01' });
    expect(widenExpiredEdges(request, NOW, 0, true)).toBe(request);
    expect(withRetentionVar(new Map([['k', 'v']]), 0)).toEqual(new Map([['k', 'v']]));
    expect(withRetentionVar(new Map(), 90)).toEqual(new Map([['raw_retention_days', '90']]));
  });
});
