import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Log } from '../log/index.js';
import type { Metrics } from '../metrics/registry.js';
import { tokenFrom } from './auth.js';
import { requestIdFrom } from './request-id.js';

declare module 'hono' {
  interface ContextVariableMap {
    requestId: string;
    /** Rows the request stored or read, when a route knows them (the access line's `rows`). */
    rows: number;
    /** Set by the not-found handler: the request matched no route. */
    unmatched: boolean;
  }
}

/** A route tells the access line how many rows it handled. */
export function noteRows(c: Context, rows: number): void {
  c.set('rows', rows);
}

/** The not-found handler marks its requests, so they share one `route` label instead of a middleware's. */
export function markUnmatched(c: Context): void {
  c.set('unmatched', true);
}

// Probes polled every few seconds (a 503 from /v0/ready while starting is expected): logged
// at debug, or they drown the access log.
const QUIET = new Set(['/v0/health', '/v0/ready', '/metrics']);

/**
 * One access line per request (method, route, status, duration, rows, request id) and the
 * HTTP metrics, timed around everything after it. Mount first. The request id comes from
 * X-Request-Id (request-id.ts) and goes back in the response's X-Request-Id.
 *
 * `route` is the matched route's pattern (/v0/pipes/*), never the raw path: a label per
 * distinct URL would grow the metrics without bound. The logged URL keeps the query (pipe
 * parameters are what one debugs) with the token cut out.
 */
export function requestLog(deps: { log: Log; metrics?: Metrics }): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const id = requestIdFrom(c.req.header('x-request-id'));
    c.set('requestId', id);
    await next();
    const seconds = (performance.now() - started) / 1000;
    // After the handler, like the CORS header in app.ts: a response a sub-app built (the pipes)
    // is not rebuilt, and a header set before the handler would be lost on it.
    c.res.headers.set('X-Request-Id', id);
    const route = c.get('unmatched') ? 'unmatched' : routePath(c, -1) || 'unmatched';
    const status = c.res.status;
    deps.metrics?.httpRequests.inc({ method: c.req.method, route, status });
    deps.metrics?.httpDuration.observe({ method: c.req.method, route, status }, seconds);
    const level = QUIET.has(route) ? 'debug' : status >= 500 ? 'warn' : 'info';
    if (deps.log.enabled?.(level) === false) return;
    deps.log(level, 'request', {
      request_id: id,
      method: c.req.method,
      route,
      url: urlWithoutToken(c),
      status,
      duration_ms: Math.round(seconds * 1e4) / 10,
      rows: c.get('rows'),
    });
  };
}

/** Path and query, without the request's token wherever it appears (the logger also cuts ?token=). */
function urlWithoutToken(c: Context): string {
  const url = c.req.url;
  const start = url.indexOf('/', url.indexOf('//') + 2);
  let text = start < 0 ? '/' : url.slice(start);
  const token = tokenFrom(c);
  // A short one could match innocent text; ?token= itself is cut by the logger whatever its length.
  if (token && token.length >= 8) {
    for (const form of new Set([
      token,
      encodeURIComponent(token),
      new URLSearchParams({ t: token }).toString().slice(2),
    ]))
      if (form) text = text.split(form).join('[redacted]');
  }
  return text;
}
