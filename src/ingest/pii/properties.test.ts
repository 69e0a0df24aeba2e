import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEventsBody } from '../rows.js';
import { redactText } from './detect.js';
import { PiiGuard } from './guard.js';
import { DEFAULT_DENY_KEYS, parseDenyKeys } from './keys.js';
import { luhnValid } from './luhn.js';

const guard = new PiiGuard({ policy: 'redact', denyKeys: parseDenyKeys(undefined), hashKey: 'k' });

const digits = (min: number, max = min) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(''));

/** A Luhn-valid number: the card prefix, random digits, and the check digit that makes it valid. */
const cardNumber = fc
  .constantFrom<[string, number]>(
    ['4', 16],
    ['4', 13],
    ['4', 19],
    ['51', 16],
    ['55', 16],
    ['2221', 16],
    ['34', 15],
    ['37', 15],
    ['6011', 16],
    ['35', 16],
    ['62', 18],
  )
  .chain(([prefix, length]) => digits(length - prefix.length - 1).map((body) => `${prefix}${body}`))
  .map((partial) => `${partial}${[...'0123456789'].find((d) => luhnValid(partial + d))}`);
const card = fc.tuple(cardNumber, fc.constantFrom('', ' ', '-')).map(([n, sep]) => {
  if (sep === '') return n;
  // Printed in fours, a short tail joining the group before (4-4-5, 4-4-4-3).
  const g = n.match(/.{1,4}/g) as string[];
  if ((g.at(-1) as string).length < 3) g.splice(-2, 2, `${g.at(-2)}${g.at(-1)}`);
  return g.join(sep);
});

// International numbers (country code, national digits), North American and trunk-0 national ones.
const intl = fc
  .tuple(
    fc.constantFrom<[string, number]>(
      ['1', 10],
      ['44', 10],
      ['33', 9],
      ['34', 9],
      ['39', 10],
      ['54', 10],
      ['55', 11],
      ['91', 10],
      ['61', 9],
    ),
    fc.constantFrom(' ', '-', '.', ''),
  )
  .chain(([[cc, n], sep]) =>
    digits(n).map((national) => `+${cc}${sep || ''}${(national.match(/.{1,3}/g) as string[]).join(sep)}`),
  );
const nanp = fc
  .tuple(
    fc.integer({ min: 200, max: 999 }),
    digits(3),
    digits(4),
    fc.constantFrom('(a) b-c', 'a-b-c', 'a.b.c', 'a b c'),
  )
  .map(([a, b, c, f]) => f.replace('a', String(a)).replace('b', b).replace('c', c));
const trunk = fc
  .tuple(fc.constantFrom([3, 4, 4], [2, 2, 2, 2, 2], [5, 6], [3, 8], [4, 3, 3]), fc.constantFrom(' ', '-'))
  .chain(([sizes, sep]) =>
    fc
      .tuple(...sizes.map((n, i) => (i === 0 ? digits(n - 1).map((d) => `0${d}`) : digits(n))))
      .map((g) => g.join(sep)),
  );

const PII = fc.oneof(
  fc.emailAddress().map((v) => ({ v, kind: 'email' })),
  fc.ipV4().map((v) => ({ v, kind: 'ip' })),
  fc.ipV6().map((v) => ({ v, kind: 'ip' })),
  card.map((v) => ({ v, kind: 'card' })),
  fc.oneof(intl, nanp, trunk).map((v) => ({ v, kind: 'phone' })),
);

// Look-alikes: versions, dates, timestamps, uuids, ULIDs, Luhn-failing 13–19 digit ids,
// feature ids, hex hashes.
const hex = (n: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const LOOK_ALIKE = fc.oneof(
  fc.tuple(fc.nat(99), fc.nat(99), fc.nat(99)).map((v) => v.join('.')),
  fc
    .tuple(fc.nat(20), fc.nat(20), fc.nat(20), fc.nat(20), fc.constantFrom('beta', 'rc.1', 'alpha.2'))
    .map(([a, b, c, d, s]) => `${a}.${b}.${c}.${d}-${s}`),
  fc
    .date({ min: new Date('1990-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
    .chain((d) =>
      fc.constantFrom(
        d.toISOString(),
        d.toISOString().slice(0, 10),
        d.toISOString().slice(0, 10).replaceAll('-', '.'),
        d.toISOString().replace('T', ' ').slice(0, 19),
      ),
    ),
  fc.uuid(),
  fc.ulid(),
  digits(13, 19).filter((d) => !luhnValid(d)),
  fc.tuple(fc.constantFrom('search', 'export', 'pos', 'chat'), fc.nat(9)).map(([f, n]) => `${f}.v${n}`),
  fc.oneof(hex(32), hex(40), hex(64)),
);

const SAFE_KEY = fc.constantFrom('result', 'platform', 'detail', 'items', 'context', 'step', 'ref', 'labels');
const WORD = fc.constantFrom('note', 'see', 'from', 'sent', 'by', 'ok', 'retry', 'via');

/** Metadata of look-alike values, with `leaf` placed at a generated path inside it. */
const metadataWith = <T>(leaf: fc.Arbitrary<T>) =>
  fc
    .tuple(
      fc.dictionary(SAFE_KEY, LOOK_ALIKE, { maxKeys: 4 }),
      fc.array(fc.oneof(SAFE_KEY, fc.nat(2)), { maxLength: 4 }),
      SAFE_KEY,
      leaf,
    )
    .map(([base, path, key, value]) => {
      let inner: unknown = { [key]: value };
      for (const step of path.reverse())
        inner = typeof step === 'number' ? [...Array(step).fill(0), inner] : { [step]: inner };
      return { metadata: { ...base, x_slot: inner }, value };
    });

const event = (metadata: unknown) =>
  JSON.stringify({
    event_id: 'e',
    user_id: 'u',
    feature_id: 'f',
    product_version: '1',
    event_type: 't',
    timestamp: '2024-01-15 10:00:00',
    metadata: JSON.stringify(metadata),
  });

const storedMetadata = (line: string) => JSON.parse(JSON.parse(line).metadata);

describe('PII guard properties', () => {
  it('an e-mail, phone, IP or card number anywhere in metadata, alone or in words, is always redacted', () => {
    const leaf = fc
      .tuple(PII, fc.array(WORD, { maxLength: 2 }), fc.array(WORD, { maxLength: 2 }))
      .map(([pii, before, after]) => ({
        ...pii,
        text: [...before, pii.v, ...after].join(' '),
        expected: [...before, `[redacted:${pii.kind}]`, ...after].join(' '),
      }));
    fc.assert(
      fc.property(metadataWith(leaf), ({ metadata, value }) => {
        const out = parseEventsBody(
          Buffer.from(
            event(
              JSON.parse(
                JSON.stringify(metadata).replace(JSON.stringify(value), () => JSON.stringify(value.text)),
              ),
            ),
          ),
          guard,
        );
        expect(out.redacted).toBe(1);
        const line = out.events[0] as string;
        expect(line).not.toContain(value.v);
        const expected = JSON.parse(
          JSON.stringify(metadata).replace(JSON.stringify(value), () => JSON.stringify(value.expected)),
        );
        expect(storedMetadata(line)).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('a deny-listed key in any case and with any separators between its words is redacted at any depth', () => {
    // email_address -> ["email", "address"] -> "EMAIL-Address", "emailAddress", "email.address"...
    const variant = fc
      .tuple(
        fc.constantFrom(...DEFAULT_DENY_KEYS),
        fc.constantFrom('_', '-', '.', ' ', ''),
        fc.constantFrom('lower', 'upper', 'camel', 'title'),
      )
      .map(([key, sep, style]) => {
        const words = key.split('_');
        const cased = words.map((w, i) =>
          style === 'upper'
            ? w.toUpperCase()
            : style === 'title' || (style === 'camel' && i > 0)
              ? w[0]?.toUpperCase() + w.slice(1)
              : w,
        );
        return { key: cased.join(sep), normalized: key.replaceAll('_', '') };
      });
    fc.assert(
      fc.property(
        fc.tuple(
          variant,
          fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.integer(), LOOK_ALIKE),
          fc.array(SAFE_KEY, { maxLength: 3 }),
        ),
        ([{ key, normalized }, value, path]) => {
          let metadata: Record<string, unknown> = { [key]: value };
          for (const step of [...path].reverse()) metadata = { [step]: metadata };
          const out = parseEventsBody(Buffer.from(event(metadata)), guard);
          let at: unknown = storedMetadata(out.events[0] as string);
          for (const step of path) at = (at as Record<string, unknown>)[step];
          expect((at as Record<string, unknown>)[key]).toBe(`[redacted:${normalized}]`);
          expect(out.redacted).toBe(1);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('look-alikes are never touched', () => {
    fc.assert(
      fc.property(metadataWith(fc.array(LOOK_ALIKE, { maxLength: 3 })), ({ metadata }) => {
        const body = Buffer.from(event(metadata));
        expect(parseEventsBody(body, guard)).toEqual(parseEventsBody(body));
      }),
      { numRuns: 400 },
    );
  });

  it('the pre-scan never passes over what the full walk would redact', () => {
    const text = fc
      .tuple(
        fc.array(
          fc.oneof(
            PII.map((p) => p.v),
            LOOK_ALIKE,
            fc.string({ maxLength: 4 }),
          ),
          { maxLength: 4 },
        ),
        fc.constantFrom(' ', '\n', '"', '\\', ',', '\t'),
      )
      .map(([parts, sep]) => parts.join(sep));
    fc.assert(
      fc.property(text, (s) => {
        if (redactText(s).kinds.length === 0) return;
        // As posted, and as it sits in a stored row (metadata: a JSON string inside JSON).
        expect(guard.mayHoldPii(JSON.stringify({ k: s }))).toBe(true);
        expect(guard.mayHoldPii(JSON.stringify({ metadata: JSON.stringify({ k: s }) }))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});
