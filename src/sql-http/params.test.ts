import { formatQueryParams } from '@clickhouse/client-common';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bindParams, decodeParam, isCompoundType, placeholderTypes } from './params.js';

describe('decodeParam', () => {
  it('gives back any string clickhouse-js encoded as a bare parameter', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(decodeParam(formatQueryParams({ value: s }), 'String')).toBe(s);
      }),
    );
  });

  it('turns quotes inside compound values into SQL-style doubled quotes and unescapes the rest', () => {
    expect(decodeParam("['it\\'s','a\\\\b','x\\ty']", 'Array(String)')).toBe("['it''s','a\\b','x\ty']");
    expect(decodeParam("it\\'s", 'String')).toBe("it's");
  });

  it('reads \\xHH escapes and keeps a trailing lone backslash', () => {
    expect(decodeParam('a\\x41b\\', 'String')).toBe('aAb\\');
  });
});

describe('placeholderTypes', () => {
  it('finds each placeholder and its type, nested parentheses included', () => {
    const types = placeholderTypes(
      'SELECT {a:UInt8}, {b: Array(String)}, {m:Map(String, Array(UInt8))} WHERE x = {a:UInt8}',
    );
    expect([...types]).toEqual([
      ['a', 'UInt8'],
      ['b', 'Array(String)'],
      ['m', 'Map(String, Array(UInt8))'],
    ]);
  });

  it('tells compound types apart', () => {
    expect(isCompoundType('Array(String)')).toBe(true);
    expect(isCompoundType('Nullable(Tuple(a String))')).toBe(true);
    expect(isCompoundType('LowCardinality(String)')).toBe(false);
    expect(isCompoundType(undefined)).toBe(false);
  });

  it('binds every raw parameter, typed or not', () => {
    expect(
      bindParams(
        new Map([
          ['s', "o\\'k"],
          ['z', '1'],
        ]),
        'SELECT {s:String}',
      ),
    ).toEqual({ s: "o'k", z: '1' });
  });
});
