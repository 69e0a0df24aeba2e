import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_ID_LENGTH, requestIdFrom } from './request-id.js';

const SAFE_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:=-';
const safeId = fc.string({
  unit: fc.constantFrom(...SAFE_CHARS),
  minLength: 1,
  maxLength: MAX_REQUEST_ID_LENGTH,
});
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdFrom', () => {
  it('keeps a short id of safe characters as sent', () => {
    fc.assert(fc.property(safeId, (id) => requestIdFrom(id) === id));
  });

  it('replaces a missing, empty, too long or unsafe id with a fresh UUID', () => {
    const unsafe = fc.oneof(
      fc.constant(undefined),
      fc.constant(''),
      fc.string({
        unit: fc.constantFrom(...SAFE_CHARS),
        minLength: MAX_REQUEST_ID_LENGTH + 1,
        maxLength: 400,
      }),
      // A safe id with at least one character outside the set (space, quote, newline, unicode...).
      fc
        .tuple(safeId, fc.string({ unit: 'binary', minLength: 1 }), safeId)
        .filter(([, bad]) => [...bad].some((ch) => !SAFE_CHARS.includes(ch)))
        .map(([a, bad, b]) => `${a}${bad}${b}`),
    );
    fc.assert(
      fc.property(unsafe, (header) => {
        const id = requestIdFrom(header);
        expect(id).toMatch(UUID);
        expect(id).not.toBe(header);
      }),
    );
  });

  it('generates a different id for each request', () => {
    expect(requestIdFrom(undefined)).not.toBe(requestIdFrom(undefined));
  });
});
