import { keptSecret } from '../lib/kept-secret.js';
import { JwtError, type JwtToken, looksLikeJwt, verifyJwt } from './jwt.js';

/**
 * Tinybird's scope types; a scope other than ADMIN names the resource it grants, except
 * SQL:READ (ours): read-only SQL over every table, for SQL users of the ClickHouse HTTP
 * listener (src/sql-http), and METRICS:READ (ours): GET /metrics, for Prometheus.
 */
export type ScopeType =
  | 'ADMIN'
  | 'DATASOURCES:APPEND'
  | 'DATASOURCES:READ'
  | 'PIPES:READ'
  | 'SQL:READ'
  | 'METRICS:READ';

export interface Scope {
  type: ScopeType;
  resource?: string;
}

export interface Token {
  name: string;
  token: string;
  scopes: Scope[];
}

const SCOPE_TYPES: ScopeType[] = ['ADMIN', 'DATASOURCES:APPEND', 'DATASOURCES:READ', 'PIPES:READ'];

export class TokenConfigError extends Error {
  override name = 'TokenConfigError';
}

/** Parses "ADMIN" or "PIPES:READ:user_feature_usage" style scope strings. */
export function parseScope(text: string): Scope {
  const trimmed = text.trim();
  if (trimmed === 'ADMIN') return { type: 'ADMIN' };
  if (trimmed === 'SQL:READ') return { type: 'SQL:READ' };
  if (trimmed === 'METRICS:READ') return { type: 'METRICS:READ' };
  const type = SCOPE_TYPES.find((t) => t !== 'ADMIN' && trimmed.startsWith(`${t}:`));
  const resource = type ? trimmed.slice(type.length + 1) : '';
  if (!type || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(resource)) {
    throw new TokenConfigError(
      `bad scope "${text}": expected ADMIN, SQL:READ, METRICS:READ, DATASOURCES:APPEND:<datasource>, DATASOURCES:READ:<datasource> or PIPES:READ:<pipe>`,
    );
  }
  return { type, resource };
}

/** Parses TB_TOKENS: "name:token:SCOPE[,SCOPE...]" entries separated by ";". */
export function parseTokenList(text: string | undefined): Token[] {
  if (!text) return [];
  return text
    .split(';')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [name, token, ...rest] = entry.split(':');
      const scopes = rest.join(':');
      if (!name || !token || !scopes) {
        throw new TokenConfigError(`bad TB_TOKENS entry "${entry}": expected name:token:SCOPE[,SCOPE...]`);
      }
      return { name, token, scopes: scopes.split(',').map(parseScope) };
    });
}

/**
 * The admin token: TB_ADMIN_TOKEN when set; otherwise one generated on first start and
 * kept in DATA_DIR/admin-token so restarts (and the printed curl) keep working.
 */
export function resolveAdminToken(
  configured: string | undefined,
  dataDir: string,
): { token: string; generated: boolean } {
  if (configured) return { token: configured, generated: false };
  const { secret, generated } = keptSecret(dataDir, 'admin-token', 'p.');
  return { token: secret, generated };
}

export class TokenStore {
  private readonly byToken = new Map<string, Token>();
  /** JWTs verified once, kept until they expire (verification is async, lookups are not). */
  private readonly jwts = new Map<string, JwtToken>();

  /** `adminToken` signs JWT read tokens; without it no JWT is accepted. */
  constructor(
    tokens: Token[],
    private readonly adminToken?: string,
  ) {
    for (const t of tokens) this.byToken.set(t.token, t);
  }

  /** Adds a token, or more scopes to a token already known by that value (a project's TOKEN lines). */
  add(t: Token): void {
    const known = this.byToken.get(t.token);
    if (known) known.scopes.push(...t.scopes.filter((s) => !this.allows(known, s.type, s.resource ?? '')));
    else this.byToken.set(t.token, { ...t, scopes: [...t.scopes] });
  }

  list(): Token[] {
    return [...this.byToken.values()];
  }

  find(token: string): Token | undefined {
    const known = this.byToken.get(token);
    if (known) return known;
    const jwt = this.jwts.get(token);
    if (jwt && jwt.exp * 1000 > Date.now()) return jwt;
    if (jwt) this.jwts.delete(token);
    return undefined;
  }

  /**
   * Verifies a JWT read token so that find() knows it; resolves to the reason it is refused,
   * or undefined when it is valid (or not a JWT at all: find() then answers as for any token).
   */
  async admitJwt(raw: string): Promise<string | undefined> {
    if (!this.adminToken || this.byToken.has(raw) || !looksLikeJwt(raw) || this.find(raw)) return undefined;
    try {
      const token = await verifyJwt(raw, this.adminToken);
      // Bounded: the oldest verified JWT goes first; it is verified again on its next use.
      if (this.jwts.size >= 10_000) this.jwts.delete(this.jwts.keys().next().value as string);
      this.jwts.set(raw, token);
      return undefined;
    } catch (err) {
      if (err instanceof JwtError) return err.message;
      throw err;
    }
  }

  remove(token: string): void {
    this.byToken.delete(token);
  }

  /** True when the token holds ADMIN or the scope type on that resource. */
  allows(token: Token, type: ScopeType, resource: string): boolean {
    return token.scopes.some(
      (s) => s.type === 'ADMIN' || (s.type === type && (s.resource ?? '') === resource),
    );
  }
}
