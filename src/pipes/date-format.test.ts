import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DateFormatError, parseWithFormat } from './date-format.js';

describe('parseWithFormat (Python strptime subset)', () => {
  it('reads the formats of Tinybird date_diff examples', () => {
    expect(parseWithFormat('2022-12-19 18:42:22', '%Y-%m-%d %H:%M:%S')).toBe(
      Date.UTC(2022, 11, 19, 18, 42, 22),
    );
    expect(parseWithFormat('2022-12-19T18:42:23.521Z', '%Y-%m-%dT%H:%M:%S.%fz')).toBe(
      Date.UTC(2022, 11, 19, 18, 42, 23, 521),
    );
    expect(parseWithFormat('2019/01/04', '%Y/%m/%d')).toBe(Date.UTC(2019, 0, 4));
    expect(parseWithFormat('2022-12-19T20:00:00+02:00', '%Y-%m-%dT%H:%M:%S%z')).toBe(
      Date.UTC(2022, 11, 19, 18),
    );
  });

  it('refuses what Python refuses: other shapes, impossible dates', () => {
    expect(parseWithFormat('2022-25-19 00:00:03', '%Y-%m-%d %H:%M:%S')).toBeUndefined();
    expect(parseWithFormat('2022-12-32 18:42:22', '%Y-%m-%d %H:%M:%S')).toBeUndefined();
    expect(parseWithFormat('2022-02-30', '%Y-%m-%d')).toBeUndefined();
    expect(parseWithFormat('2022-12-19', '%Y-%m-%d %H:%M:%S')).toBeUndefined();
    expect(parseWithFormat('2022/12/19 18:42:22', '%Y-%m-%d %H:%M:%S')).toBeUndefined();
    expect(() => parseWithFormat('x', '%Q')).toThrow(DateFormatError);
  });

  it('round-trips any real date and time written in the default format', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01'), max: new Date('2105-12-31'), noInvalidDate: true }),
        (d) => {
          const t = Math.floor(d.getTime() / 1000) * 1000;
          const text = new Date(t).toISOString().slice(0, 19).replace('T', ' ');
          expect(parseWithFormat(text, '%Y-%m-%d %H:%M:%S')).toBe(t);
        },
      ),
    );
  });

  it('never throws on arbitrary text for a valid format', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = parseWithFormat(s, '%Y-%m-%dT%H:%M:%S.%fz');
        expect(r === undefined || Number.isFinite(r)).toBe(true);
      }),
    );
  });
});
