/** The Luhn checksum of a string of digits (the check digit last). */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Whether a run of 13–19 digits is a payment card number: Luhn-valid, and its first digit
 * (the major industry identifier) one the card networks use: 2 (Mastercard's 2-series),
 * 3 (Amex, Diners, JCB), 4 (Visa), 5 (Mastercard, Maestro) or 6 (Discover, UnionPay,
 * Maestro). The prefix keeps epoch-millisecond timestamps (13 digits from 1) and many
 * numeric ids out: a tenth of all digit strings pass Luhn alone.
 */
export function isCardNumber(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19) return false;
  const first = digits.charCodeAt(0) - 48;
  return first >= 2 && first <= 6 && luhnValid(digits);
}
