import type { Context } from 'hono';
import type { ScopeType, Token, TokenStore } from '../auth/index.js';
import { jsonError } from './errors.js';

/** Tinybird's rule: ?token= wins over Authorization: Bearer. */
export function tokenFrom(c: Context): string | undefined {
  const query = c.req.query('token');
  if (query) return query;
  const header = c.req.header('authorization');
  const match = header?.match(/^Bearer\s+(.+)$/i);
  return match?.[1]?.trim() || undefined;
}

export type AuthResult = { ok: true; token: Token } | { ok: false; response: Response };

/** 401 without a token, 403 for a token we do not know. */
export function identify(c: Context, store: TokenStore, documentation: string): AuthResult {
  const raw = tokenFrom(c);
  if (!raw) {
    return {
      ok: false,
      response: jsonError(
        c,
        401,
        'Missing token: send Authorization: Bearer <token> or ?token=<token>',
        documentation,
      ),
    };
  }
  const token = store.find(raw);
  if (!token) return { ok: false, response: jsonError(c, 403, 'Invalid token', documentation) };
  return { ok: true, token };
}

/** 403 unless the token holds ADMIN or the scope on that resource. */
export function requireScope(
  c: Context,
  store: TokenStore,
  token: Token,
  type: ScopeType,
  resource: string,
  documentation: string,
): Response | undefined {
  if (store.allows(token, type, resource)) return undefined;
  return jsonError(c, 403, `The token "${token.name}" lacks the scope ${type}:${resource}`, documentation);
}

/** identify + requireScope in one step. */
export function authorize(
  c: Context,
  store: TokenStore,
  type: ScopeType,
  resource: string,
  documentation: string,
): AuthResult {
  const who = identify(c, store, documentation);
  if (!who.ok) return who;
  const denied = requireScope(c, store, who.token, type, resource, documentation);
  return denied ? { ok: false, response: denied } : who;
}
