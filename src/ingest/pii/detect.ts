import { isPossiblePhoneNumber } from 'libphonenumber-js';
import validator from 'validator';
import { isCardNumber } from './luhn.js';
import { mayHoldPiiText } from './string-scan.js';

const { isEmail, isIP } = validator;

/** The kinds of value the guard recognises inside text. */
export type ValueKind = 'email' | 'ip' | 'card' | 'phone';

export const redacted = (kind: string) => `[redacted:${kind}]`;

/**
 * One detector: a pattern that finds candidates (bounded so that it never starts or ends
 * inside a longer word, number or version string) and a check that decides each one.
 */
interface Detector {
  kind: ValueKind;
  /** A cheap test on the whole string before the pattern runs. */
  worth: (text: string) => boolean;
  pattern: RegExp;
  /** The [start, end) of the candidate that is this kind, or undefined. */
  accept: (candidate: string) => [number, number] | undefined;
}

const hasDigit = (text: string) => /\d/.test(text);
const digitsOf = (text: string) => text.replace(/\D/g, '');
const whole =
  (ok: (c: string) => boolean) =>
  (c: string): [number, number] | undefined =>
    ok(c) ? [0, c.length] : undefined;

/**
 * The longest run of whole digit groups in a candidate that passes `ok`, of `minDigits` to
 * `maxDigits` digits. A grouped-number pattern also takes in neighbouring numbers ("call 12
 * 4111 1111 1111 1111", "+1 555 123 4567 42"): the number is still found inside them.
 */
const groups =
  (ok: (part: string) => boolean, minDigits: number, maxDigits: number) =>
  (c: string): [number, number] | undefined => {
    const spans: [number, number][] = [];
    const counts: number[] = [];
    for (const m of c.matchAll(/[^ .-]+/g)) {
      spans.push([m.index, m.index + m[0].length]);
      counts.push(digitsOf(m[0]).length);
    }
    let best: [number, number] | undefined;
    for (let i = 0; i < spans.length; i++) {
      const start = (spans[i] as [number, number])[0];
      let last = i;
      let digits = counts[i] as number;
      while (last + 1 < spans.length && digits + (counts[last + 1] as number) <= maxDigits)
        digits += counts[++last] as number;
      // Longest first: the first span from here that passes is the longest one, and ok
      // (a phone number parser, say) runs as few times as it can.
      for (let j = last; j >= i && digits >= minDigits; j--) {
        const to = (spans[j] as [number, number])[1];
        if (best && to - start <= best[1] - best[0]) break;
        if (ok(c.slice(start, to))) {
          best = [start, to];
          break;
        }
        digits -= counts[j] as number;
      }
    }
    return best;
  };

// RFC 5322's atext in the local part; validator's isEmail has the last word. Tried only
// where a run of such characters starts: from every position of a long run with no domain
// after its @, the search would take time quadratic in the run.
const EMAIL =
  /(?<![\p{L}\p{N}!#$%&'*+/=?^_`{|}~.-])[\p{L}\p{N}!#$%&'*+/=?^_`{|}~.-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu;
// Not glued to a word, a dot or a dash-word, so "1.2.3.4-beta" and "v1.2.3.4" stay.
const IPV4 = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|[.-]\w)/g;
// Hex groups and colons (an IPv4 tail allowed): "14:35:22" is a candidate that isIP refuses.
const IPV6 = /(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,8}(?::?(?:\d{1,3}\.){3}\d{1,3})?(?![\w:.])/g;
// Digit groups separated by single spaces or dashes (4111 1111 1111 1111, with a neighbour
// or two). Bounded, as the phone patterns are: a long run of groups is taken a few groups at
// a time, so the work stays linear in the text.
const CARD = /(?<![\w.+-])\d{1,19}(?:[ -]\d{1,19}){0,7}(?![\w]|[.-]\d)/g;
// International: + and a country code, then groups (brackets allowed), as people write them.
const PHONE_INTL = /(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){1,6}(?![\w]|[.-]\d)/g;
// North American: (555) 123-4567, 555-123-4567, 555.123.4567.
const PHONE_NANP = /(?<![\w.+-])(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}(?![\w]|[.-]\d)/g;
// National numbers with a trunk 0, grouped by spaces or dashes: 020 7946 0958, 06 12 34 56 78.
const PHONE_TRUNK = /(?<![\w.+:-])0\d{1,4}(?:[ -]\d{2,8}){1,4}(?![\w]|[.:-]\d)/g;

const isIntl = (part: string) => {
  if (part[0] !== '+') return false;
  const digits = digitsOf(part);
  return digits.length >= 8 && digits.length <= 15 && isPossiblePhoneNumber(`+${digits}`);
};
const isTrunk = (part: string) => {
  const n = digitsOf(part).length;
  return part[0] === '0' && /[ -]/.test(part) && n >= 10 && n <= 11;
};
// Cards are printed in groups of 3 to 6 digits (4-4-4-4, Amex 4-6-5), or not grouped.
const isCard = (part: string) => {
  const digits = digitsOf(part);
  return digits.length >= 13 && part.split(/[ -]/).every((g) => g.length >= 3) && isCardNumber(digits);
};

// Order matters: an e-mail's domain or an IPv6 tail is taken before its digits could be
// read as a phone or card number.
const DETECTORS: Detector[] = [
  {
    kind: 'email',
    worth: (t) => t.includes('@'),
    pattern: EMAIL,
    accept: whole((c) => isEmail(c, { allow_utf8_local_part: true, require_tld: true })),
  },
  { kind: 'ip', worth: (t) => t.includes(':'), pattern: IPV6, accept: whole((c) => isIP(c, 6)) },
  { kind: 'ip', worth: (t) => t.includes('.'), pattern: IPV4, accept: whole((c) => isIP(c, 4)) },
  { kind: 'card', worth: hasDigit, pattern: CARD, accept: groups(isCard, 13, 19) },
  { kind: 'phone', worth: (t) => t.includes('+'), pattern: PHONE_INTL, accept: groups(isIntl, 8, 15) },
  { kind: 'phone', worth: hasDigit, pattern: PHONE_NANP, accept: whole(() => true) },
  { kind: 'phone', worth: hasDigit, pattern: PHONE_TRUNK, accept: groups(isTrunk, 10, 11) },
];

/**
 * `text` with every e-mail address, IP address, payment card number and phone number in it
 * replaced by `[redacted:<kind>]`, and the kinds found (empty: `text` is returned as is).
 */
export function redactText(text: string): { text: string; kinds: ValueKind[] } {
  if (!mayHoldPiiText(text)) return { text, kinds: [] };
  return runDetectors(text);
}

/** What the detectors find in `text`, without the scan that usually spares them (for tests). */
export const findKinds = (text: string): ValueKind[] => runDetectors(text).kinds;

function runDetectors(text: string): { text: string; kinds: ValueKind[] } {
  const kinds: ValueKind[] = [];
  let out = text;
  for (const d of DETECTORS) {
    if (!d.worth(out)) continue;
    out = out.replace(d.pattern, (candidate) => {
      const hit = d.accept(candidate);
      if (hit === undefined) return candidate;
      kinds.push(d.kind);
      return candidate.slice(0, hit[0]) + redacted(d.kind) + candidate.slice(hit[1]);
    });
  }
  return { text: kinds.length === 0 ? text : out, kinds };
}

/** Whether an id (user_id, account_id) is an e-mail address. */
export function isEmailId(id: string): boolean {
  return id.includes('@') && isEmail(id.trim(), { allow_utf8_local_part: true, require_tld: true });
}
