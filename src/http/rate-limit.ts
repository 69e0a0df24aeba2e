import type { MiddlewareHandler } from 'hono';
import type { TokenStore } from '../auth/index.js';
import { tokenFrom } from './auth.js';
import { DOCS, jsonError } from './errors.js';

/** What X-RateLimit-Limit says when no limit is configured: headers still go out, as Tinybird always sends them. */
export const UNLIMITED = 2_147_483_647;

export interface RateLimitOptions {
  /** Requests allowed per token per window; 0 = no limit (the headers still go out, with UNLIMITED). */
  limit: number;
  windowSeconds: number;
  tokens: TokenStore;
  documentation?: string;
  now?: () => number;
}

/**
 * Per-token rate limiting with Tinybird's headers: every answer to a known token carries
 * X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (seconds until the window
 * restarts); over the limit the answer is 429 with Retry-After and nothing is done.
 *
 * Fixed windows per token, in memory (one process: with several api replicas each enforces
 * its own share). Only known tokens are counted, so the table is bounded by the token list;
 * requests without a token or with an unknown one pass through to be answered 401/403.
 */
export function rateLimit(opts: RateLimitOptions): MiddlewareHandler {
  const windowMs = opts.windowSeconds * 1000;
  const limit = opts.limit > 0 ? opts.limit : UNLIMITED;
  const now = opts.now ?? Date.now;
  const windows = new Map<string, { start: number; used: number }>();
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') return next();
    const raw = tokenFrom(c);
    const token = raw ? opts.tokens.find(raw) : undefined;
    if (!token) return next();
    const t = now();
    let w = windows.get(token.token);
    if (!w || t - w.start >= windowMs) {
      w = { start: t, used: 0 };
      windows.set(token.token, w);
    }
    const resetSeconds = Math.max(1, Math.ceil((w.start + windowMs - t) / 1000));
    const headers = {
      'X-RateLimit-Limit': String(limit),
      'X-RateLimit-Remaining': String(Math.max(0, limit - w.used - 1)),
      'X-RateLimit-Reset': String(resetSeconds),
    };
    if (w.used >= limit) {
      return jsonError(
        c,
        429,
        `Too many requests: the token "${token.name}" may make ${limit} requests every ${opts.windowSeconds} s; retry after ${resetSeconds} s`,
        opts.documentation ?? DOCS.events,
        { ...headers, 'X-RateLimit-Remaining': '0', 'Retry-After': String(resetSeconds) },
      );
    }
    w.used++;
    await next();
    try {
      for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
    } catch {
      // immutable headers (a forwarded Response): copy it once
      c.res = new Response(c.res.body, c.res);
      for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
    }
  };
}
