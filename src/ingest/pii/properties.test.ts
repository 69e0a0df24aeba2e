import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { denyKeyVariant, LOOK_ALIKE, PII, SAFE_KEY, WORD } from '../../../test/helpers/pii-arbitraries.js';
import { parseEventsBody } from '../rows.js';
import { redactText } from './detect.js';
import { PiiGuard } from './guard.js';
import { parseDenyKeys } from './keys.js';

const guard = new PiiGuard({ policy: 'redact', denyKeys: parseDenyKeys(undefined), hashKey: 'k' });

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
    fc.assert(
      fc.property(
        fc.tuple(
          denyKeyVariant,
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
