import type { Context } from 'hono';

declare module 'hono' {
  interface ContextVariableMap {
    /** Headers every answer to this request carries (request id, CORS, rate limit). */
    responseHeaders: Record<string, string>;
    /** The response jsonReply built with responseHeaders in it. */
    responseHeadersOn: Response;
  }
}

/**
 * Headers the middlewares add to every answer, collected as a plain object before the
 * handler runs and written once. Setting them on c.res after the handler, as each middleware
 * did, turns @hono/node-server's lightweight response's plain headers into a web Headers
 * object (validated, sorted, then converted back for Node) on every request.
 */
export function addResponseHeaders(c: Context, headers: Record<string, string>): void {
  const pending = c.get('responseHeaders');
  if (pending) Object.assign(pending, headers);
  else c.set('responseHeaders', { ...headers });
}

/** A JSON answer that carries the pending headers in its plain header object (the fast path). */
export function jsonReply(c: Context, body: unknown, status: 200 | 202): Response {
  const headers = { 'content-type': 'application/json', ...c.get('responseHeaders') };
  const res = new Response(JSON.stringify(body), { status, headers });
  c.set('responseHeadersOn', res);
  return res;
}

/**
 * Writes the pending headers into whatever response the handler made, unless they are in it
 * already (jsonReply's, or an inner middleware applied them). Each middleware that adds
 * headers runs this once the handler is done, so it also works mounted alone.
 */
export function applyResponseHeaders(c: Context): void {
  const pending = c.get('responseHeaders');
  // A response built since (an error handler's) gets them like any other.
  if (!pending || c.get('responseHeadersOn') === c.res) return;
  try {
    for (const [k, v] of Object.entries(pending)) c.res.headers.set(k, v);
  } catch {
    // immutable headers (a forwarded Response): copy it once
    c.res = new Response(c.res.body, c.res);
    for (const [k, v] of Object.entries(pending)) c.res.headers.set(k, v);
  }
  c.set('responseHeadersOn', c.res);
}
