import { randomUUID } from 'node:crypto';

/** The longest X-Request-Id taken from a client; a longer one is replaced. */
export const MAX_REQUEST_ID_LENGTH = 128;
// Letters, digits and a few separators trace ids use (UUIDs, W3C trace ids, "req-12:3").
// Nothing that could break a log line or a header: no spaces, quotes or control characters.
const SAFE = /^[A-Za-z0-9_.:=-]+$/;

/**
 * The request id: the client's X-Request-Id when it is short and made of safe characters
 * (a proxy or the caller's own tracing set it, so logs on both sides match), else a new UUID.
 */
export function requestIdFrom(header: string | undefined): string {
  if (header && header.length <= MAX_REQUEST_ID_LENGTH && SAFE.test(header)) return header;
  return randomUUID();
}
