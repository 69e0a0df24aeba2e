import fc from 'fast-check';
import { DEFAULT_DENY_KEYS } from '../../src/ingest/pii/keys.js';
import { luhnValid } from '../../src/ingest/pii/luhn.js';

/** Arbitraries for the PII guard's property tests: personal data, and what only looks like it. */

export const digits = (min: number, max = min) =>
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

export const PII = fc.oneof(
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
export const LOOK_ALIKE = fc.oneof(
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

export const SAFE_KEY = fc.constantFrom(
  'result',
  'platform',
  'detail',
  'items',
  'context',
  'step',
  'ref',
  'labels',
);
export const WORD = fc.constantFrom('note', 'see', 'from', 'sent', 'by', 'ok', 'retry', 'via');

/** A default deny key in any case, with any separator between its words, and its normalised form. */
export const denyKeyVariant = fc
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
