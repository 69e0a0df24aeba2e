import { type Context, Hono } from 'hono';
import { type FixedParams, signJwt, type Token, type TokenStore } from '../auth/index.js';
import { type TokenRegistry, TokenRequestError } from '../auth/token-registry.js';
import { authorize } from './auth.js';
import { DOCS, jsonError } from './errors.js';

const DOC = DOCS.tokens;

/** Tinybird's token shape. */
const shape = (t: Token) => ({
  token: t.token,
  name: t.name,
  description: '',
  scopes: t.scopes.map((s) => ({ type: s.type, resource: s.resource ?? null, filter: '' })),
});

/**
 * Tinybird's Token API, ADMIN only: GET /v0/tokens, GET /v0/tokens/<name>, POST /v0/tokens
 * (?name=&scope=...; or, with ?expiration_time=, a JWT read token from a JSON body),
 * POST /v0/tokens/<name>/refresh, DELETE /v0/tokens/<name>.
 */
export function tokensRoute(deps: { tokens: TokenStore; registry: TokenRegistry; adminToken: string }): Hono {
  const app = new Hono();
  app.use('*', async (c, next) => {
    const auth = authorize(c, deps.tokens, 'ADMIN', '', DOC);
    if (!auth.ok) return auth.response;
    await next();
  });
  const guarded = (fn: (c: Context) => Response | Promise<Response>) => async (c: Context) => {
    try {
      return await fn(c);
    } catch (err) {
      if (err instanceof TokenRequestError) return jsonError(c, err.status, err.message, DOC);
      throw err;
    }
  };
  app.get('/', (c) => c.json({ tokens: deps.registry.list().map(shape) }));
  app.get(
    '/:name',
    guarded((c) => c.json(shape(deps.registry.get(c.req.param('name') ?? '')))),
  );
  app.post(
    '/',
    guarded(async (c) => {
      const exp = c.req.query('expiration_time');
      if (exp !== undefined) return c.json({ token: await createJwt(c, exp, deps.adminToken) });
      const form = (c.req.header('content-type') ?? '').includes('application/x-www-form-urlencoded')
        ? new URLSearchParams(await c.req.text())
        : new URLSearchParams();
      const name = c.req.query('name') ?? form.get('name') ?? '';
      const scopes = [...(c.req.queries('scope') ?? []), ...form.getAll('scope')];
      return c.json(shape(deps.registry.create(name, scopes)));
    }),
  );
  app.post(
    '/:name/refresh',
    guarded((c) => c.json(shape(deps.registry.refresh(c.req.param('name') ?? '')))),
  );
  app.delete(
    '/:name',
    guarded((c) => {
      deps.registry.delete(c.req.param('name') ?? '');
      return c.body(null, 204);
    }),
  );
  return app;
}

async function createJwt(c: Context, expText: string, adminToken: string): Promise<string> {
  const exp = Number(expText);
  if (!Number.isInteger(exp) || exp <= Date.now() / 1000)
    throw new TokenRequestError('Parameter "expiration_time": a Unix time in seconds, in the future', 400);
  const body = (await c.req.json().catch(() => undefined)) as
    | { name?: unknown; scopes?: unknown; limits?: { rps?: unknown } }
    | undefined;
  if (!body || typeof body.name !== 'string' || !body.name)
    throw new TokenRequestError('The JSON body needs "name" and "scopes"', 400);
  const scopes = Array.isArray(body.scopes) ? (body.scopes as Array<Record<string, unknown>>) : [];
  if (
    scopes.length === 0 ||
    scopes.some((s) => s?.type !== 'PIPES:READ' || typeof s.resource !== 'string' || !s.resource)
  )
    throw new TokenRequestError(
      'JWT tokens read pipes only: "scopes" must be [{"type": "PIPES:READ", "resource": "<pipe>", "fixed_params": {...}}]',
      400,
    );
  const rps = body.limits?.rps;
  return signJwt(
    {
      name: body.name,
      exp,
      scopes: scopes.map((s) => ({
        type: 'PIPES:READ' as const,
        resource: s.resource as string,
        ...(s.fixed_params && typeof s.fixed_params === 'object'
          ? { fixed_params: s.fixed_params as FixedParams }
          : {}),
      })),
      ...(typeof rps === 'number' && rps > 0 ? { limits: { rps } } : {}),
    },
    adminToken,
  );
}
