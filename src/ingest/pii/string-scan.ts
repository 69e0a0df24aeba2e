/**
 * The guard's check of a clean row folded into the one pass that validates it: the loop
 * that finds the end of the metadata string in a canonical line (src/ingest/fast-row.ts)
 * also decides whether the walk (walk.ts) could find anything in it. Clean rows are thus
 * checked without a second pass over their text; a row this scan marks goes to the walk,
 * which decides. A superset of what the walk finds, by rules read off the detectors
 * (detect.ts) and the walk; src/ingest/pii/scan.test.ts checks the two agree.
 *
 * The text is a JSON string's content as a canonical line holds it: the only escapes are
 * \" and \\ (so metadata's own JSON is one escape level down: \" is its quote, \\ its
 * backslash, and \\n its newline).
 */
import { type DenyKeyTrie, mayBeDenyKey } from './key-trie.js';

/** The result of scanning one string: reused, so that the scan allocates nothing. */
export interface StringScan {
  /** Where the string's closing quote is; -1: not a canonical string. */
  end: number;
  /** How many escapes (\" or \\) it holds, for its length once unescaped. */
  escapes: number;
  /** Whether the walk could find personal data in it. */
  maybePii: boolean;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isHex = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
// \w of the detectors' look-behinds: a number glued to one is never a candidate.
const isWord = (c: number) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
// b f n r t: after a backslash they are an escape (\n is a line break, not a letter).
const isEscapeLetter = (c: number) => c === 98 || c === 102 || c === 110 || c === 114 || c === 116;
// A number's separators inside a run: phone and card groups, dotted quads.
const isSeparator = (c: number) => c === 32 || c === 45 || c === 46;

// What a character asks for, by UTF-16 code unit: one table read per character is all a
// letter costs. MARK: the string may hold personal data (@ e-mail, + and ( phones).
const PLAIN = 0;
const QUOTE = 1;
const BACKSLASH = 2;
const MARK = 3;
const COLON = 4;
const DIGIT = 5;
const CLASS = new Uint8Array(65536);
CLASS[34] = QUOTE;
CLASS[92] = BACKSLASH;
for (const c of '@+(') CLASS[c.charCodeAt(0)] = MARK;
CLASS[58] = COLON;
for (let c = 48; c <= 57; c++) CLASS[c] = DIGIT;

/**
 * Scans the string whose content starts at `start` (just after its opening quote) and
 * fills `out`. Called once per row, for metadata, instead of fast-row's plain loop.
 */
export function scanString(line: string, start: number, keys: DenyKeyTrie, out: StringScan): void {
  let i = start;
  let escapes = 0;
  let maybe = false;
  // The last quote at any depth (\" is metadata's quote, \\\" the quote of JSON inside a
  // string in it): a key is the text between two quotes.
  let quote = start - 1;
  const length = line.length;
  for (;;) {
    if (i >= length) {
      out.end = -1; // ran off the end
      return;
    }
    const k = CLASS[line.charCodeAt(i)];
    if (k === PLAIN) i++;
    else if (k === QUOTE) break;
    else if (k === BACKSLASH) {
      const next = line.charCodeAt(i + 1);
      if (next === 34) {
        if (!maybe && followsKey(line.charCodeAt(i + 2))) maybe = mayBeDenyKey(line, quote + 1, i, keys);
        quote = i + 1;
      } else if (next === 92) {
        // \\u: a \u escape one level down, which can spell anything.
        if (line.charCodeAt(i + 2) === 117) maybe = true;
      } else {
        out.end = -1;
        return;
      }
      escapes++;
      i += 2;
    } else if (k === DIGIT) i = maybe ? i + 1 : digitRun(line, i);
    else if (k === COLON) {
      maybe ||= colonsMayBeIpv6(line, i);
      i++;
    } else {
      maybe = true; // MARK
      i++;
    }
    if (i < 0) {
      // digitRun found a candidate: the run ends at -i.
      maybe = true;
      i = -i;
    }
  }
  out.end = i;
  out.escapes = escapes;
  out.maybePii = maybe;
}

/**
 * The same rules on text as parsed (a string value or key, no escapes): whether the
 * detectors (redactText) could find anything in it. Most strings in a row that is walked
 * are clean, and this is cheaper than the detectors' patterns.
 */
export function mayHoldPiiText(text: string): boolean {
  const length = text.length;
  let i = 0;
  while (i < length) {
    const k = CLASS[text.charCodeAt(i)];
    if (k === DIGIT) {
      const run = digitRun(text, i);
      if (run < 0) return true;
      i = run;
    } else if (k === MARK || (k === COLON && colonsMayBeIpv6(text, i))) return true;
    else i++;
  }
  return false;
}

// After a quote, a key is followed by its colon, perhaps after spaces or (one level down)
// an escaped line break; anything else (, } ]) ends a value, which no deny key concerns.
const followsKey = (c: number) => c === 58 || c === 32 || c === 92;

/**
 * At a colon: "::", or two groups of 1–4 hex digits each closed by a colon (an IPv6
 * address without "::" has seven colons; "14:35:22" has one such group).
 */
function colonsMayBeIpv6(line: string, at: number): boolean {
  if (line.charCodeAt(at + 1) === 58) return true;
  let i = at + 1;
  for (let group = 0; group < 2; group++) {
    const from = i;
    while (i - from < 5 && isHex(line.charCodeAt(i))) i++;
    if (i === from || i - from > 4 || line.charCodeAt(i) !== 58) return false;
    i++;
  }
  return true;
}

/**
 * A run of digits from `at` (the previous character is not a digit), with single spaces,
 * dashes or dots between them: the only place an IP address, a card or a phone number
 * without + or ( can be. Returns where the run ends, negated when it could hold one
 * (mayHoldNumber), or when it is a JSON number with an exponent (4.111111111111111e15 is a
 * card number once parsed).
 */
function digitRun(line: string, at: number): number {
  // Most runs are short (a count, a date, a hex id's digits) and settled by counting.
  let end = at;
  let digits = 0;
  let dots = 0;
  for (;;) {
    const c = line.charCodeAt(end);
    if (isDigit(c)) digits++;
    else if (!isSeparator(c) || !isDigit(line.charCodeAt(end + 1))) break;
    else if (c === 46) dots++;
    end++;
  }
  if ((line.charCodeAt(end) | 32) === 101 && isNumberStart(line, at)) return -end;
  // A dotted quad has three dots, any other candidate ten digits.
  if (digits < 10 && (digits < 4 || dots < 3)) return end;
  return mayHoldNumber(line, at, end) ? -end : end;
}

/**
 * Whether the run line[at, end) holds a candidate: counted from the first digit a card or
 * phone candidate can start at (the detectors start none glued to a letter, digit, dot or
 * dash; inside a run, after a space),
 * - ten digits and two separators (555-123-4567);
 * - ten digits from a 0 (a trunk-0 national number), thirteen from a 2–6 (a card), the
 *   first digit of any group;
 * and from the first an IPv4 address can start at (a dash before it is allowed), four
 * digits and three dots.
 */
function mayHoldNumber(line: string, at: number, end: number): boolean {
  const before = line.charCodeAt(at - 1);
  // \\n before the digits is a line break one level down, not a letter.
  const escaped = isEscapeLetter(before) && line.charCodeAt(at - 2) === 92;
  let started = escaped || !(isWord(before) || before === 46 || before === 45);
  let ipStarted = escaped || !(isWord(before) || before === 46);
  let digits = 0;
  let separators = 0;
  let dots = 0;
  let from0 = -1;
  let from2to6 = -1;
  for (let i = at; i < end; i++) {
    const c = line.charCodeAt(i);
    if (!isDigit(c)) {
      if (started) separators++;
      if (ipStarted && c === 46) dots++;
      continue;
    }
    const prev = line.charCodeAt(i - 1);
    if (prev === 32) started = true;
    if (prev === 32 || prev === 45) ipStarted = true;
    if (ipStarted && dots >= 3) return true;
    if (!started) continue;
    if (!isDigit(prev)) {
      if (from0 < 0 && c === 48) from0 = 0;
      if (from2to6 < 0 && c >= 50 && c <= 54) from2to6 = 0;
    }
    digits++;
    if (from0 >= 0) from0++;
    if (from2to6 >= 0) from2to6++;
  }
  return (digits >= 10 && separators >= 2) || from0 >= 10 || from2to6 >= 13;
}

/**
 * Whether the digits at `at` start a JSON number (not digits inside a string or a hex
 * id): after a colon, comma, bracket or space (an escaped line break one level down),
 * perhaps with a minus sign.
 */
function isNumberStart(line: string, at: number): boolean {
  let j = at - 1;
  if (line.charCodeAt(j) === 45) j--;
  const c = line.charCodeAt(j);
  return c === 58 || c === 44 || c === 91 || c === 32 || (isEscapeLetter(c) && line.charCodeAt(j - 1) === 92);
}
