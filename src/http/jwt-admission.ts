import type { MiddlewareHandler } from 'hono';
import type { JwtToken, TokenStore } from '../auth/index.js';
import { tokenFrom } from './auth.js';
import { jsonError } from './errors.js';

/**
 * Before the pipes' own auth: a JWT read token is verified here (jose is async, the token
 * lookups are not), refused with its reason if forged or expired, and held to its
 * limits.rps with a one-second window (429 + Retry-After).
 */
export function jwtAdmission(tokens: TokenStore, documentation: string): MiddlewareHandler {
  const windows = new Map<string, { second: number; count: number }>();
  return async (c, next) => {
    const raw = tokenFrom(c);
    if (raw) {
      const refused = await tokens.admitJwt(raw);
      if (refused) return jsonError(c, 403, refused, documentation);
      const rps = (tokens.find(raw) as Partial<JwtToken> | undefined)?.rps;
      if (rps) {
        const second = Math.floor(Date.now() / 1000);
        const w = windows.get(raw);
        if (!w || w.second !== second) {
          if (windows.size > 10_000) windows.clear();
          windows.set(raw, { second, count: 1 });
        } else if (++w.count > rps) {
          return jsonError(
            c,
            429,
            `This token allows ${rps} requests per second (limits.rps)`,
            documentation,
            {
              'Retry-After': '1',
            },
          );
        }
      }
    }
    await next();
  };
}
