import { Hono } from 'hono';
import type { Registry } from 'prom-client';
import type { TokenStore } from '../auth/index.js';
import { identify } from './auth.js';
import { jsonError } from './errors.js';

// Ours, not Tinybird's (Tinybird has no /metrics): the operations guide in this repository.
const DOC = 'docs/operations.md#metrics-and-logs';

/**
 * GET /metrics in Prometheus' text format. With `tokens` (the API port) the caller needs a
 * token with METRICS:READ or ADMIN, as Bearer or ?token=; without (the METRICS_PORT
 * listener, for scrapers inside the network) anyone who reaches the port may read it.
 */
export function metricsRoute(deps: { registry: Registry; tokens?: TokenStore }): Hono {
  const app = new Hono();
  app.get('/', async (c) => {
    if (deps.tokens) {
      const who = identify(c, deps.tokens, DOC);
      if (!who.ok) return who.response;
      if (!deps.tokens.allows(who.token, 'METRICS:READ', ''))
        return jsonError(c, 403, `The token "${who.token.name}" lacks the scope METRICS:READ`, DOC);
    }
    return c.body(await deps.registry.metrics(), 200, { 'Content-Type': deps.registry.contentType });
  });
  return app;
}
