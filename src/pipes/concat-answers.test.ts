import { describe, expect, it } from 'vitest';
import { concatMemo as bytesMemo, concatAnswers } from './concat-answers.js';

const concatMemo = () => {
  const concat = bytesMemo();
  const text = new TextDecoder();
  return (...args: Parameters<typeof concat>) => text.decode(concat(...args));
};

const answer = (rows: unknown[]) =>
  JSON.stringify({ meta: [{ name: 'x', type: 'UInt8' }], data: rows, rows: rows.length });

/** A part whose body counts how often it is read. */
function part(rows: unknown[]) {
  const text = answer(rows);
  const p = {
    reads: 0,
    body: {
      toString: () => {
        p.reads++;
        return text;
      },
    },
  };
  return p;
}

describe('concatMemo', () => {
  it('answers as concatAnswers, reading each set of parts once', () => {
    const concat = concatMemo();
    const a = part([{ x: 1 }]);
    const b = part([{ x: 2 }, { x: 3 }]);
    const whole = concatAnswers('json', [answer([{ x: 1 }]), answer([{ x: 2 }, { x: 3 }])], 10);
    expect(concat('json', [a, b], 10)).toBe(whole);
    expect(concat('json', [a, b], 10)).toBe(whole);
    const bytes = bytesMemo();
    expect(bytes('json', [a, b], 10)).toBe(bytes('json', [a, b], 10)); // the same bytes, kept
    expect([a.reads, b.reads]).toEqual([2, 2]); // once per memo
    // Another limit, format or part is another answer.
    expect(JSON.parse(concat('json', [a, b], 2)).rows).toBe(2);
    expect(concat('ndjson', [a, b], 10)).toBe(
      concatAnswers('ndjson', [answer([{ x: 1 }]), answer([{ x: 2 }, { x: 3 }])], 10),
    );
    const c = part([{ x: 4 }]);
    expect(JSON.parse(concat('json', [a, c], 10)).data).toEqual([{ x: 1 }, { x: 4 }]);
    expect(c.reads).toBe(1);
  });
});
