import { type Context, Hono, type MiddlewareHandler } from 'hono';
import type { Token, TokenStore } from '../auth/index.js';
import type { Log } from '../log/index.js';
import { QUOTA_METRICS, type QuotaMetric, type Quotas } from '../quota/quotas.js';
import { identify, tokenFrom } from './auth.js';
import { jsonError } from './errors.js';

const DOC = 'https://www.tinybird.co/docs/api-reference/overview#limits';

// QUOTA_DEFAULTS bind every token but the admin ones; QUOTA_LIMITS name any token.
const isAdmin = (t: Token) => t.scopes.some((s) => s.type === 'ADMIN');

function over(c: Context, quotas: Quotas, metric: QuotaMetric, limit: number | null) {
  return jsonError(c, 429, `Daily quota ${metric} reached (${limit}): it resets at 00:00 UTC`, DOC, {
    'Retry-After': String(quotas.secondsToReset()),
  });
}

/**
 * Counts one pipe request per call, before it runs (so concurrent requests cannot all slip
 * under the limit), and in hard mode refuses once the day's limit is reached.
 */
export function countPipeRequests(tokens: TokenStore, quotas: Quotas, log: Log): MiddlewareHandler {
  return async (c, next) => {
    const token = tokens.find(tokenFrom(c) ?? '');
    if (!token) return next(); // the route answers 401/403
    const metric = 'pipe_requests_daily';
    const before = quotas.state(token.name, metric, isAdmin(token));
    if (before.exceeded && quotas.mode === 'hard') return over(c, quotas, metric, before.limit);
    const after = quotas.add(token.name, metric, 1, isAdmin(token));
    if (after.exceeded) warn(c, log, token.name, metric, after.current, after.limit);
    return next();
  };
}

/** Counts stored rows from the Events API's (or bulk append's) answer; hard mode refuses once reached. */
export function countIngestedRows(tokens: TokenStore, quotas: Quotas, log: Log): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const token = tokens.find(tokenFrom(c) ?? '');
    if (!token) return next();
    const metric = 'rows_ingested_daily';
    const before = quotas.state(token.name, metric, isAdmin(token));
    if (before.exceeded && quotas.mode === 'hard') return over(c, quotas, metric, before.limit);
    await next();
    if (c.res.status !== 200 && c.res.status !== 202) return;
    const body = (await c.res
      .clone()
      .json()
      .catch(() => ({}))) as { successful_rows?: unknown };
    const rows = typeof body.successful_rows === 'number' ? body.successful_rows : 0;
    const after = quotas.add(token.name, metric, rows, isAdmin(token));
    if (after.exceeded) warn(c, log, token.name, metric, after.current, after.limit);
  };
}

function warn(c: Context, log: Log, name: string, metric: string, current: number, limit: number | null) {
  c.header('X-Quota-Exceeded', metric);
  log('warn', 'quota exceeded', { token: name, metric, current, limit });
}

/** GET /v0/quotas: the caller's token, seed 002's shape {metric: {exceeded, current, limit}}. */
export function quotasRoute(tokens: TokenStore, quotas: Quotas): Hono {
  const app = new Hono();
  app.get('/', (c) => {
    const who = identify(c, tokens, DOC);
    if (!who.ok) return who.response;
    return c.json(
      Object.fromEntries(QUOTA_METRICS.map((m) => [m, quotas.state(who.token.name, m, isAdmin(who.token))])),
    );
  });
  return app;
}
