import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tokenArb } from '../../test/helpers/token-arbitrary.js';
import { REDACTED, redactFields, redactText } from './redact.js';

// How the token shows in a URL: encoded by the client, or sent raw.
const inUrl = (token: string) => [
  encodeURIComponent(token),
  new URLSearchParams({ t: token }).toString().slice(2),
];

describe('redactText', () => {
  it('cuts ?token= and &token= out of any URL, whatever the token, path and other parameters', () => {
    fc.assert(
      fc.property(
        tokenArb,
        fc.webPath(),
        fc.array(fc.tuple(fc.constantFrom('name', 'user_id', 'q', 'wait'), fc.webSegment()), {
          maxLength: 3,
        }),
        fc.boolean(),
        (token, path, params, tokenFirst) => {
          for (const encoded of inUrl(token)) {
            const query = params.map(([k, v]) => `${k}=${v}`);
            if (tokenFirst) query.unshift(`token=${encoded}`);
            else query.push(`token=${encoded}`);
            const line = `GET ${path}?${query.join('&')} failed`;
            const out = redactText(line);
            expect(out).not.toContain(encoded);
            expect(out).toContain(`token=${REDACTED}`);
            // The rest of the URL survives: it is what one debugs with.
            expect(out.startsWith(`GET ${path}?`)).toBe(true);
          }
        },
      ),
    );
  });

  it('cuts the credential after Bearer (an Authorization header quoted in a message)', () => {
    fc.assert(
      fc.property(
        tokenArb.filter((t) => !/[\s"',;]/.test(t)),
        (token) => {
          const out = redactText(`upstream said: Authorization: Bearer ${token}, retry`);
          expect(out).not.toContain(token);
          expect(out).toContain(`Bearer ${REDACTED}`);
        },
      ),
    );
  });

  it('leaves text without secrets unchanged', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !/token=|bearer|basic/i.test(s)),
        (s) => redactText(s) === s,
      ),
    );
  });
});

describe('redactFields', () => {
  it('replaces credential fields and cleans strings at any depth, without changing the input', () => {
    fc.assert(
      fc.property(tokenArb, fc.webPath(), (token, path) => {
        const encoded = encodeURIComponent(token);
        const fields = {
          headers: { Authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
          request: { url: `${path}?token=${encoded}`, attempts: [1, `retry ${path}?x=1&token=${encoded}`] },
          token,
          password: token,
          status: 403,
        };
        const before = JSON.stringify(fields);
        const out = JSON.stringify(redactFields(fields));
        expect(out).not.toContain(encoded);
        expect(out).not.toContain(JSON.stringify(token).slice(1, -1));
        expect(out).toContain('"content-type":"text/plain"');
        expect(out).toContain('"status":403');
        expect(JSON.stringify(fields)).toBe(before);
      }),
    );
  });

  it('ends on cyclic objects', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(JSON.stringify(redactFields(a))).toContain(REDACTED);
  });
});
