import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { denyKeyVariant, digits, LOOK_ALIKE, PII, SAFE_KEY } from '../../../test/helpers/pii-arbitraries.js';
import { CANONICAL_MAYBE_PII, canonicalEventLine, NOT_CANONICAL } from '../fast-row.js';
import { wellFormedJson } from '../quarantine-row.js';
import { parseEventsBody } from '../rows.js';
import { findKinds } from './detect.js';
import { type FieldMode, ID_FIELDS, PiiGuard, type PiiPolicy } from './guard.js';
import { parseDenyKeys } from './keys.js';
import { isCardNumber } from './luhn.js';
import { mayHoldPiiText } from './string-scan.js';

// The fast path (the scan folded into validation, and the pre-scan) against the full walk
// of every row: they must agree on every row, or a scan has passed over personal data.

const guardFor = (policy: Exclude<PiiPolicy, 'off'>) =>
  new PiiGuard({ policy, denyKeys: parseDenyKeys(undefined), hashKey: 'k' });
const redact = guardFor('redact');
const quarantine = guardFor('quarantine');
const eventModes = (field: string): FieldMode =>
  ID_FIELDS.has(field) ? 'id' : field === 'metadata' ? 'walk' : 'skip';

/** A JSON value with the text of each number and the white space between tokens chosen. */
type Json =
  | { str: string }
  | { num: string }
  | { obj: [string, Json][] }
  | { arr: Json[] }
  // JSON text carried in a string (metadata inside metadata).
  | { nested: Json };

function text(v: Json, space: string): string {
  if ('str' in v) return JSON.stringify(v.str);
  if ('num' in v) return v.num;
  if ('nested' in v) return JSON.stringify(text(v.nested, space));
  if ('arr' in v) return `[${v.arr.map((x) => text(x, space)).join(`,${space}`)}]`;
  return `{${space}${v.obj.map(([k, x]) => `${JSON.stringify(k)}${space}:${space}${text(x, space)}`).join(',')}}`;
}

// Strings made of what the scan looks at: digits, separators, colons, escape letters,
// backslashes, quotes, line breaks, and the characters that mark a string outright.
const NASTY = fc.string({ unit: fc.constantFrom(...'0123456 .-:aefnt_\\"\n@+(K\u212a'), maxLength: 24 });
// Numbers as JSON allows them to be written: a card number, also with a fraction or an
// exponent (4.111111111111111e15), and ordinary ones.
const cardDigits = PII.filter((p) => p.kind === 'card').map((p) => p.v.replace(/\D/g, ''));
const NUMBER = fc.oneof(
  cardDigits,
  cardDigits.map((d) => `${d}.0`),
  cardDigits.map((d) => `${d[0]}.${d.slice(1)}e${d.length - 1}`),
  cardDigits.map((d) => `${d[0]}.${d.slice(1)}E+${d.length - 1}`),
  cardDigits.map((d) => `-${d}`),
  // A card number with trailing zeros, written short: 4.1e15 has no long run of digits.
  fc
    .tuple(fc.integer({ min: 2, max: 6 }), digits(0, 3), fc.integer({ min: 12, max: 18 }))
    .map(([a, b, e]) => `${a}${b === '' ? '' : `.${b}`}e${e}`)
    .filter((t) => isCardNumber(String(Number(t)))),
  digits(1, 19),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
);
const STRING = fc.oneof(
  PII.map((p) => p.v),
  fc.tuple(NASTY, PII, NASTY).map(([a, p, b]) => `${a}${p.v}${b}`),
  LOOK_ALIKE,
  NASTY,
  fc.string({ maxLength: 12 }),
);
const KEY = fc.oneof(
  SAFE_KEY,
  denyKeyVariant.map((v) => v.key),
  PII.map((p) => p.v),
  NASTY,
);
const json: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    STRING.map((str) => ({ str })),
    NUMBER.map((num) => ({ num })),
    fc.array(fc.tuple(KEY, tie('value')), { maxLength: 4 }).map((obj) => ({ obj })),
    fc.array(tie('value'), { maxLength: 3 }).map((arr) => ({ arr })),
    tie('value').map((nested) => ({ nested })),
  ),
})).value;

/** Metadata as the text a client sends: JSON (compact or spaced) or any string. */
const METADATA = fc.oneof(
  fc.tuple(json, fc.constantFrom('', ' ', '\n')).map(([v, space]) => text(v, space)),
  STRING,
);
const ID = fc.oneof(
  fc.constantFrom('u_1', 'acct-9'),
  fc.emailAddress(),
  NASTY.filter((s) => s.trim() !== ''),
);
const EVENT = fc
  .record({ user_id: ID, account_id: fc.option(ID, { nil: undefined }), metadata: METADATA })
  .map(({ user_id, account_id, metadata }) =>
    JSON.stringify({
      event_id: 'e1',
      user_id,
      feature_id: 'f',
      product_version: '1.2.3',
      event_type: 'feature_used',
      timestamp: '2024-01-15 10:00:00',
      session_id: 's',
      metadata,
      account_id,
    }),
  );

/** What the guard gives when it walks every row (no scan, no pre-scan). */
function fullWalk(guard: PiiGuard, body: Buffer) {
  const plain = parseEventsBody(body);
  const events: string[] = [];
  const refused: string[] = [];
  let redacted = 0;
  for (const line of plain.events) {
    const { value, findings } = guard.guard(JSON.parse(line), eventModes);
    if (findings.length === 0) events.push(line);
    else if (guard.policy === 'redact') {
      events.push(wellFormedJson(JSON.stringify(value)));
      redacted++;
    } else refused.push(JSON.stringify(value));
  }
  return { events, redacted, refused };
}

describe('PII scan folded into validation', () => {
  it('the fast path redacts or refuses exactly the rows, and exactly what, the full walk does', () => {
    let found = 0;
    let canonical = 0;
    fc.assert(
      fc.property(fc.array(EVENT, { minLength: 1, maxLength: 4 }), (lines) => {
        const body = Buffer.from(`${lines.join('\n')}\n`);
        const expected = fullWalk(redact, body);
        const fast = parseEventsBody(body, redact);
        expect(fast.events).toEqual(expected.events);
        expect(fast.redacted).toBe(expected.redacted);
        const refusing = fullWalk(quarantine, body);
        const refused = parseEventsBody(body, quarantine);
        expect(refused.events).toEqual(refusing.events);
        expect(refused.quarantine.length - parseEventsBody(body).quarantine.length).toBe(
          refusing.refused.length,
        );
        found += expected.redacted;
        canonical += lines.filter((l) => canonicalEventLine(l) !== NOT_CANONICAL).length;
      }),
      { numRuns: 1500 },
    );
    // Not vacuous: many rows held personal data, and most took the canonical path.
    expect(found).toBeGreaterThan(500);
    expect(canonical).toBeGreaterThan(1500);
  });

  it('the scan marks every canonical row the walk finds something in, and so does the pre-scan', () => {
    let checked = 0;
    fc.assert(
      fc.property(EVENT, (line) => {
        const verdict = canonicalEventLine(line, redact.denyKeyTrie);
        if (verdict === NOT_CANONICAL) return;
        if (redact.guard(JSON.parse(line), eventModes).findings.length === 0) return;
        checked++;
        expect(verdict).toBe(CANONICAL_MAYBE_PII);
        expect(redact.mayHoldPii(line)).toBe(true);
      }),
      { numRuns: 3000 },
    );
    expect(checked).toBeGreaterThan(500);
  });

  it('a string the text scan passes holds nothing the detectors would redact', () => {
    // redactText returns at once when mayHoldPiiText says no: it must never say no wrongly.
    let marked = 0;
    fc.assert(
      fc.property(fc.oneof(STRING, KEY, NUMBER), (s) => {
        const found = findKinds(s);
        if (found.length === 0) return;
        marked++;
        expect(mayHoldPiiText(s)).toBe(true);
      }),
      { numRuns: 3000 },
    );
    expect(marked).toBeGreaterThan(500);
  });

  it('rows that only look like personal data stay canonical and unmarked', () => {
    // The point of the scan: the usual row is not walked (timestamps, ids, versions, hex).
    const clean = (metadata: string) =>
      JSON.stringify({
        event_id: 'e1',
        user_id: 'u1',
        feature_id: 'f',
        product_version: '1',
        event_type: 't',
        timestamp: '2024-01-15 10:00:00',
        session_id: 's',
        metadata,
      });
    for (const metadata of [
      '{"duration_seconds":437,"result":"success","platform":"ios","screen":"1920x1080"}',
      '{"request_id":"c1f9af55-7c1e-4b2a-9f3d-052642990000","started_at":"2024-10-04T21:16:20.000Z"}',
      '{"client_version":"2.7.0","ts_ms":1728076625000,"retries":2,"sha":"9feb1384a0470940000bc"}',
      '{"nested":"{\\"a\\":1,\\"at\\":\\"14:35:22\\"}","list":[1,2,3]}',
    ])
      expect(canonicalEventLine(clean(metadata), redact.denyKeyTrie)).not.toBe(CANONICAL_MAYBE_PII);
  });
});
