import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { depthOver, scanJson } from './json-scan.js';

/** Nesting depth of a parsed value, with an explicit stack (the oracle). */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, d + 1);
    for (const child of Object.values(v as object)) stack.push([child, d + 1]);
  }
  return max;
}

describe('scanJson', () => {
  it('measures nesting without recursion, however deep', () => {
    const deep = `{"m":${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}}`;
    expect(scanJson(deep).depth).toBe(200_001);
    expect(scanJson('"{{{[[["').depth).toBe(0);
    expect(scanJson('{"a":"\\"}{"}').depth).toBe(1);
    expect(scanJson('{"a":[1]').single).toBe(false);
    expect(scanJson('{"a":"1}').single).toBe(false);
    expect(scanJson('}{').single).toBe(false);
    expect(scanJson('{"a":1}\n{"b":2}').single).toBe(false);
    expect(scanJson('#\n[[1]]').single).toBe(false);
    expect(scanJson(' [[1], {"a":[]}] \n').single).toBe(true);
    expect(scanJson('{"a":"x\n{"}').single).toBe(false);
  });

  it('agrees with the parsed value on depth, and splits a top-level array into its items', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        const shape = scanJson(text);
        expect(shape.depth).toBe(depthOf(value));
        for (const max of [0, 1, 3])
          expect(depthOver(text, max)).toBe(shape.depth > max ? shape.depth : undefined);
        expect(shape.single).toBe(Array.isArray(value) || (value !== null && typeof value === 'object'));
        if (Array.isArray(value)) {
          expect(shape.items?.map(([s, e]) => JSON.parse(text.slice(s, e)))).toEqual(value);
        } else expect(shape.items).toBeUndefined();
      }),
      { seed: 17, numRuns: 500 },
    );
  });
});
