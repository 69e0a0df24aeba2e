import { describe, expect, it } from 'vitest';
import { AT_LIMIT, soloShape, splitBatch } from './batch-answer.js';

const meta = [
  { name: 'f', type: 'String' },
  { name: 'n', type: 'UInt64' },
];
const batch = (data: Array<Record<string, unknown>>, m = [{ name: '__key', type: 'String' }, ...meta]) =>
  JSON.stringify({
    meta: m,
    data,
    rows: data.length,
    rows_before_limit_at_least: data.length,
    statistics: { elapsed: 1 },
  });

describe('splitBatch', () => {
  const shape = soloShape(
    JSON.stringify({ meta, data: [], rows: 0, rows_before_limit_at_least: 0, statistics: {} }),
  );
  if (!shape) throw new Error('no shape');
  const data = [
    { __key: 'u1', f: 'a', n: 1 },
    { __key: 'u2', f: 'b', n: 2 },
    { __key: 'u1', f: 'c', n: 3 },
  ];

  it('gives each key its rows in order, rows before the limit, empty answers for keys without rows', () => {
    const out = splitBatch(
      batch(data),
      [
        { key: 'u1', limit: 10 },
        { key: 'u3', limit: 10 },
      ],
      shape,
    ).map((b) => (typeof b === 'string' ? JSON.parse(b) : b));
    expect(out).toEqual([
      {
        meta,
        data: [
          { f: 'a', n: 1 },
          { f: 'c', n: 3 },
        ],
        rows: 2,
        rows_before_limit_at_least: 2,
        statistics: { elapsed: 1 },
      },
      { meta, data: [], rows: 0, rows_before_limit_at_least: 0, statistics: { elapsed: 1 } },
    ]);
  });

  it('leaves to the solo query a key at its limit, an unsafe integer, or columns unlike the solo answer', () => {
    expect(splitBatch(batch(data), [{ key: 'u1', limit: 2 }], shape)).toEqual([AT_LIMIT]);
    const big = batch([{ __key: 'u1', f: 'a', n: 0 }]).replace('"n":0', '"n":18446744073709551615');
    expect(splitBatch(big, [{ key: 'u1', limit: 9 }], shape)).toEqual([undefined]);
    const other = batch(data, [
      { name: '__key', type: 'String' },
      { name: 'f', type: 'String' },
      { name: 'n', type: 'UInt32' },
    ]);
    expect(splitBatch(other, [{ key: 'u2', limit: 9 }], shape)).toEqual([undefined]);
  });
});
