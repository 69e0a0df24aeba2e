import { errors, jwtVerify, SignJWT } from 'jose';
import type { Scope, Token } from './tokens.js';

/**
 * Tinybird's JWT read tokens: HS256, signed with the admin token, claims `name`, `exp`,
 * `scopes: [{type: "PIPES:READ", resource: <pipe>, fixed_params: {...}}]` and optional
 * `limits: {rps}`. A fixed parameter overrides whatever the caller sends for that pipe, so a
 * token handed to one customer only ever sees that customer's rows.
 */

export type FixedParams = Record<string, string | number | boolean | Array<string | number>>;

export interface JwtToken extends Token {
  /** Per pipe, the parameters the token pins. */
  fixedParams: Map<string, FixedParams>;
  /** Requests per second this token may make (limits.rps), if limited. */
  rps?: number;
  /** Seconds since the epoch after which the token is refused. */
  exp: number;
}

export class JwtError extends Error {
  override name = 'JwtError';
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export const looksLikeJwt = (raw: string) => JWT_SHAPE.test(raw);

const secretOf = (adminToken: string) => new TextEncoder().encode(adminToken);

/** The token a JWT stands for, or JwtError saying why it is refused (forged, expired, malformed). */
export async function verifyJwt(raw: string, adminToken: string): Promise<JwtToken> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(raw, secretOf(adminToken), {
      algorithms: ['HS256'],
      requiredClaims: ['exp'],
    }));
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw new JwtError('The JWT token has expired');
    throw new JwtError('Invalid JWT token: its signature, algorithm or claims are wrong');
  }
  return tokenFromClaims(raw, payload);
}

function tokenFromClaims(raw: string, claims: Record<string, unknown>): JwtToken {
  const { name, scopes, limits, exp } = claims as {
    name?: unknown;
    scopes?: unknown;
    limits?: { rps?: unknown };
    exp: number;
  };
  if (typeof name !== 'string' || !name) throw new JwtError('Invalid JWT token: the "name" claim is missing');
  if (!Array.isArray(scopes) || scopes.length === 0)
    throw new JwtError('Invalid JWT token: "scopes" must be a non-empty list');
  const fixedParams = new Map<string, FixedParams>();
  const list: Scope[] = [];
  for (const s of scopes as Array<Record<string, unknown>>) {
    // Only read scopes: a JWT can never append rows or administer.
    if (s?.type !== 'PIPES:READ' || typeof s.resource !== 'string' || !s.resource)
      throw new JwtError(
        'Invalid JWT token: every scope must be {"type": "PIPES:READ", "resource": "<pipe>"}',
      );
    list.push({ type: 'PIPES:READ', resource: s.resource });
    if (s.fixed_params !== undefined) {
      if (typeof s.fixed_params !== 'object' || s.fixed_params === null || Array.isArray(s.fixed_params))
        throw new JwtError('Invalid JWT token: "fixed_params" must be an object');
      fixedParams.set(s.resource, s.fixed_params as FixedParams);
    }
  }
  const rps = typeof limits?.rps === 'number' && limits.rps > 0 ? limits.rps : undefined;
  return { name, token: raw, scopes: list, fixedParams, rps, exp };
}

export interface JwtClaims {
  name: string;
  /** Seconds since the epoch. */
  exp: number;
  scopes: Array<{ type: 'PIPES:READ'; resource: string; fixed_params?: FixedParams }>;
  limits?: { rps?: number };
}

/** Signs a read token (what POST /v0/tokens?expiration_time= answers). */
export async function signJwt(claims: JwtClaims, adminToken: string): Promise<string> {
  const { exp, ...rest } = claims;
  return new SignJWT({ ...rest })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(secretOf(adminToken));
}
