import { Hono } from 'hono';
import type { TokenStore } from '../auth/index.js';
import { parseEventsBody } from '../ingest/index.js';
import type { PiiGuard } from '../ingest/pii/index.js';
import type { Log } from '../log/index.js';
import type { Metrics } from '../metrics/registry.js';
import type { EventSink } from '../queue/types.js';
import { appendBody } from './append-rows.js';
import { identify, requireScope } from './auth.js';
import { DOCS, jsonError } from './errors.js';
import type { IngestAdmission } from './ingest-admission.js';

export interface EventsRouteDeps {
  sink: () => EventSink | undefined;
  tokens: TokenStore;
  datasources: ReadonlySet<string>;
  maxBodyBytes: number;
  log: Log;
  metrics?: Metrics;
  /** Redacts or quarantines personal data in rows (src/ingest/pii); none when PII_POLICY=off. */
  pii?: PiiGuard;
  /** Bounds the bytes of bodies read and parsed at once (src/http/ingest-admission.ts). */
  admission?: IngestAdmission;
}

/** POST /v0/events?name=<datasource>: Tinybird's Events API. */
export function eventsRoute(deps: EventsRouteDeps): Hono {
  const app = new Hono();
  app.post('/', async (c) => {
    const name = c.req.query('name');
    if (!name)
      return jsonError(
        c,
        400,
        'Missing parameter "name": the datasource to append to, e.g. ?name=feature_events',
      );
    const who = identify(c, deps.tokens, DOCS.events);
    if (!who.ok) return who.response;
    if (!deps.datasources.has(name)) {
      return jsonError(
        c,
        404,
        `Data source "${name}" does not exist; known: ${[...deps.datasources].join(', ')}`,
      );
    }
    const denied = requireScope(c, deps.tokens, who.token, 'DATASOURCES:APPEND', name, DOCS.events);
    if (denied) return denied;
    return appendBody(c, deps, (body) => parseEventsBody(body, deps.pii));
  });
  return app;
}
