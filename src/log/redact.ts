/**
 * Secrets out of log lines. Tokens travel in `?token=` (Tinybird's clients put them there)
 * and in `Authorization: Bearer`, so any URL, header or error message a log line carries
 * may hold one. Applied to every line by createLog, whatever module wrote it.
 */

// A token-named query parameter (token, access_token, ...) up to the next parameter,
// fragment or whitespace. Quotes and commas do not end it: a token may hold them (a raw
// request need not percent-encode ' or "), and cutting a closing quote with it is harmless.
const TOKEN_PARAM = /\b([\w.-]*token=)[^&#\s]*/gi;
// A credential after an auth scheme, as in an Authorization header's value: up to whitespace.
const AUTH_VALUE = /\b(Bearer|Basic)(\s+)\S+/gi;
// Fields that hold a credential whatever their text looks like.
const SECRET_KEY = /^(authorization|proxy-authorization|cookie|set-cookie|token|password|x-api-key)$/i;
export const REDACTED = '[redacted]';

export function redactText(text: string): string {
  return text.replace(TOKEN_PARAM, `$1${REDACTED}`).replace(AUTH_VALUE, `$1$2${REDACTED}`);
}

/** A copy of the fields with secrets replaced; the original is not changed. */
export function redactFields(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  // Deeper than any field we log: replaced rather than walked (a cycle would never end).
  if (value === null || typeof value !== 'object' || depth > 8) return depth > 8 ? REDACTED : value;
  if (Array.isArray(value)) return value.map((v) => redactFields(v, depth + 1));
  if (value instanceof Error) return redactText(value.message);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] = SECRET_KEY.test(k) && v !== undefined ? REDACTED : redactFields(v, depth + 1);
  return out;
}
