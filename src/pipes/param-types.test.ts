import { describe, expect, it } from 'vitest';
import { paramType, splitArrayValues } from './param-types.js';

const parse = (type: string, raw: string) => paramType(type)?.parse(raw);

describe('parameter types', () => {
  it('checks integer ranges exactly, beyond 2^53 too', () => {
    expect(parse('UInt8', '255')).toBe(255);
    expect(parse('UInt8', '256')).toBeUndefined();
    expect(parse('Int8', '-129')).toBeUndefined();
    expect(parse('UInt64', '18446744073709551615')).toBe(18446744073709551615n);
    expect(parse('UInt64', '-1')).toBeUndefined();
    expect(parse('Int32', '1.5')).toBeUndefined();
    expect(parse('Int', '7')).toBe(7);
  });

  it('dates and times are real calendar values, normalised', () => {
    expect(parse('DateTime', '2024-02-29 23:59:59')).toBe('2024-02-29 23:59:59');
    expect(parse('DateTime', '2023-02-29 00:00:00')).toBeUndefined();
    expect(parse('DateTime', '2024-01-02T03:04:05Z')).toBe('2024-01-02 03:04:05');
    expect(parse('DateTime', '2024-01-02')).toBe('2024-01-02 00:00:00');
    expect(parse('DateTime', '2024-01-02 24:00:00')).toBeUndefined();
    expect(parse('DateTime64', '2024-01-02 03:04:05.25')).toBe('2024-01-02 03:04:05.250000');
    expect(parse('Date', '2024-13-01')).toBeUndefined();
  });

  it('floats, booleans, strings', () => {
    expect(parse('Float64', '1e3')).toBe(1000);
    expect(parse('Float64', 'NaN')).toBeUndefined();
    expect(parse('Boolean', 'TRUE')).toBe(true);
    expect(parse('Boolean', 'yes')).toBeUndefined();
    expect(parse('String', 'a'.repeat(10_001))).toBeUndefined();
  });

  it('arrays accept comma lists and repeated keys', () => {
    expect(splitArrayValues(['a,b', 'c', ''])).toEqual(['a', 'b', 'c']);
  });
});
