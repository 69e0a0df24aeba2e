import { describe, expect, it } from 'vitest';
import { paramType } from './param-types.js';
import type { ParamSpec, RequestParams } from './params.js';
import { selectRows, splitSelection } from './row-select.js';

const req = (o: Record<string, string | string[]>): RequestParams =>
  new Map(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
const spec = (name: string, type: string, isArray = false, dflt?: number): ParamSpec => ({
  name,
  type,
  isArray,
  base: paramType(type) as ParamSpec['base'],
  required: false,
  line: 1,
  ...(dflt === undefined ? {} : { default: dflt }),
});
const TAGS = ['select_rows:feature_id'];
const SPECS = [
  spec('feature_id', 'String', true),
  spec('granularity', 'String'),
  spec('limit', 'UInt32', false, 5),
];
const answer = (rows: Array<Record<string, unknown>>, before = rows.length) =>
  JSON.stringify({
    meta: [{ name: 'feature_id' }],
    data: rows,
    rows: rows.length,
    rows_before_limit_at_least: before,
  });

describe('splitSelection', () => {
  it('asks the request without its selectors and limit, and picks the named values', () => {
    const s = splitSelection(TAGS, SPECS, req({ feature_id: ['a,b', ' c'], granularity: 'day', limit: '2' }));
    expect([...(s?.base ?? [])]).toEqual([['granularity', ['day']]]);
    expect([...(s?.pick.get('feature_id') ?? [])]).toEqual(['a', 'b', 'c']);
    expect(s?.limit).toBe(2);
    expect(s?.baseLimit).toBe(5);
  });

  it('is no selection without a selector value, with an empty one, or for an untagged parameter', () => {
    expect(splitSelection(TAGS, SPECS, req({ granularity: 'day' }))).toBeUndefined();
    expect(splitSelection(TAGS, SPECS, req({ feature_id: ',' }))).toBeUndefined();
    expect(splitSelection([], SPECS, req({ feature_id: 'a' }))).toBeUndefined();
    expect(splitSelection(['select_rows:limit'], SPECS, req({ limit: '3' }))).toBeUndefined(); // not a String
  });
});

describe('selectRows', () => {
  const rows = [
    { bucket: 1, feature_id: 'a', n: 1 },
    { bucket: 1, feature_id: 'b', n: 2 },
    { bucket: 2, feature_id: 'a', n: 3 },
  ];
  const pick = (values: string[], limit = 10) => ({
    pick: new Map([['feature_id', new Set(values)]]),
    limit,
    baseLimit: 10,
  });

  it('keeps the matching rows in order, cut at the limit, with their count before it', () => {
    const out = JSON.parse(selectRows('json', answer(rows), pick(['a'], 1)) as string);
    expect(out.data).toEqual([{ bucket: 1, feature_id: 'a', n: 1 }]);
    expect(out.rows).toBe(1);
    expect(out.rows_before_limit_at_least).toBe(2);
    expect(
      selectRows('ndjson', `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`, pick(['a', 'b'], 2)),
    ).toBe(`${JSON.stringify(rows[0])}\n${JSON.stringify(rows[1])}\n`);
  });

  it('declines when the whole answer was cut by its limit or nothing matches', () => {
    expect(selectRows('json', answer(rows, 4), pick(['a']))).toBeUndefined();
    expect(selectRows('json', answer(rows), { ...pick(['a']), baseLimit: 3 })).toBeUndefined();
    expect(selectRows('json', answer(rows), pick(['zzz']))).toBeUndefined();
    expect(selectRows('csv', 'x', pick(['a']))).toBeUndefined();
  });
});
