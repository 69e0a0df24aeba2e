// Digit-based candidates, each starting where a run of digits starts: a dotted quad (IPv4),
// 3-3-4 groups (555-123-4567), ten digits from a 0 (a trunk-0 national number), thirteen from
// a 2–6 (a card's first digit). Epoch milliseconds (13 digits from a 1) and timestamps
// ("2024-10-03 12:34:56": 4-2-2-2 then a colon) do not match.
const DIGITS =
  /(?<!\d)(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d|\d{3}[ .-]\d{3}[ .-]\d{4}|0(?:[ -]?\d){9}|[2-6](?:[ -]?\d){12})/g;
// IPv6 without "::": eight groups, so at least two colon-hex-colon steps; "14:35:22" has one.
const COLONS = /:[0-9a-fA-F]{1,4}:[0-9a-fA-F]{1,4}:/g;
// A JSON number with an exponent (4.111111111111111e15 is a card number once parsed): after
// a colon, comma, bracket or white space, also escaped (\n) one level down or more.
const EXPONENT = /(?:[:,[\s]|\\[bfnrt])-?\d+(?:\.\d+)?[eE]/g;

/**
 * Whether JSON text could hold a value the detectors (detect.ts) would redact, decided
 * without parsing: a superset of what they find, in text as posted or as stored (metadata
 * as a JSON string inside the row). Built from native searches (String.includes, two
 * regular expressions that start at a digit or a colon): a character loop in JavaScript
 * cost as much as the row's own validation. `from`: where the digit and colon searches
 * start (the single characters are looked for everywhere).
 * - `@` (e-mail), `\u` (an escape could spell anything), `+` and `(` (phones), `::` (IPv6);
 * - DIGITS, COLONS and EXPONENT above.
 */
export function mayHoldPiiValue(text: string, from = 0): boolean {
  if (
    text.includes('@') ||
    text.includes('\\u') ||
    text.includes('::') ||
    text.includes('+') ||
    text.includes('(')
  )
    return true;
  DIGITS.lastIndex = from;
  if (DIGITS.test(text)) return true;
  COLONS.lastIndex = from;
  if (COLONS.test(text)) return true;
  EXPONENT.lastIndex = from;
  return EXPONENT.test(text);
}
