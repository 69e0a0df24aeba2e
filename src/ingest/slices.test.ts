import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOOK_ALIKE, PII, SAFE_KEY } from '../../test/helpers/pii-arbitraries.js';
import { PiiGuard } from './pii/guard.js';
import { parseDenyKeys } from './pii/keys.js';
import { parseEventsBody } from './rows.js';
import { isNdjson, ndjsonSlices } from './slices.js';

const guard = new PiiGuard({ policy: 'redact', denyKeys: parseDenyKeys(undefined), hashKey: 'k' });

const event = fc
  .record({
    event_id: fc.string({ maxLength: 6 }),
    user_id: fc.constantFrom('u1', 'u2', ''),
    feature_id: fc.constantFrom('f', 'g'),
    product_version: fc.constant('1.0'),
    event_type: fc.constantFrom('click', 'view'),
    timestamp: fc.constantFrom('2024-01-15 10:00:00', '2024-01-15T10:00:00Z', 'not a time'),
    metadata: fc.dictionary(
      SAFE_KEY,
      fc.oneof(
        LOOK_ALIKE,
        PII.map((p) => p.v),
      ),
      { maxKeys: 3 },
    ),
  })
  .map((e) => JSON.stringify({ ...e, metadata: JSON.stringify(e.metadata) }));

/** Lines an upload may hold: events, other JSON, broken JSON, arrays, blanks, bad UTF-8. */
const line = fc.oneof(
  { weight: 6, arbitrary: event.map((t) => Buffer.from(t)) },
  { weight: 1, arbitrary: fc.json().map((t) => Buffer.from(t)) },
  { weight: 1, arbitrary: fc.string().map((t) => Buffer.from(t)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', '   ', '[{"a":1}]', '{"a":', '1}', '\uFEFF{}').map((t) => Buffer.from(t)),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)) },
);

const body = fc
  .tuple(event, fc.array(line, { maxLength: 30 }), fc.boolean(), fc.constantFrom('\n', '\r\n'))
  .map(([first, rest, trailing, eol]) => {
    const parts = [Buffer.from(first), ...rest];
    const joined = Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from(eol), p])));
    return trailing ? Buffer.concat([joined, Buffer.from(eol)]) : joined;
  });

describe('ndjsonSlices', () => {
  it('cuts at line ends only, within the size unless one line is longer, losing no byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 1, max: 64 }), (bytes, max) => {
        const b = Buffer.from(bytes);
        const slices = ndjsonSlices(b, max);
        expect(Buffer.concat(slices).equals(b)).toBe(true);
        slices.forEach((s, i) => {
          expect(s.length).toBeGreaterThan(0);
          if (i < slices.length - 1) expect(s[s.length - 1]).toBe(0x0a);
          // Longer than max only when it holds a single line end, its last byte.
          if (s.length > max) expect(s.subarray(0, s.length - 1).includes(0x0a)).toBe(false);
        });
      }),
    );
  });

  it('parses an NDJSON body slice by slice exactly as whole (rows, quarantine, redactions)', () => {
    fc.assert(
      fc.property(body, fc.integer({ min: 1, max: 600 }), fc.boolean(), (b, max, withGuard) => {
        expect(isNdjson(b)).toBe(true);
        const pii = withGuard ? guard : undefined;
        const whole = parseEventsBody(b, pii);
        const parts = ndjsonSlices(b, max).map((s) => parseEventsBody(s, pii, { lines: true }));
        expect(parts.flatMap((p) => p.events)).toEqual(whole.events);
        expect(parts.flatMap((p) => p.quarantine)).toEqual(whole.quarantine);
        expect(parts.reduce((n, p) => n + p.redacted, 0)).toBe(whole.redacted);
      }),
      { numRuns: 300 },
    );
  });

  it('takes a body for NDJSON only when its first non-blank line is a JSON object', () => {
    expect(isNdjson(Buffer.from('\n  \n{"a":1}\n[1]'))).toBe(true);
    expect(isNdjson(Buffer.from('{\n  "event_id": "e"\n}'))).toBe(false);
    expect(isNdjson(Buffer.from('[{"a":1},\n{"a":2}]'))).toBe(false);
    expect(isNdjson(Buffer.from('\n\n'))).toBe(false);
    expect(isNdjson(Buffer.from('"text"\n{"a":1}'))).toBe(false);
  });
});
