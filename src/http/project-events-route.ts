import type { Context, Next } from 'hono';
import type { TokenStore } from '../auth/index.js';
import type { PiiGuard } from '../ingest/pii/index.js';
import type { Log } from '../log/index.js';
import type { Metrics } from '../metrics/registry.js';
import type { DatasourceFile } from '../project/datasource-file.js';
import { parseDatasourceBody } from '../project/rows.js';
import type { EventSink } from '../queue/types.js';
import { appendBody } from './append-rows.js';
import { authorize } from './auth.js';
import { DOCS } from './errors.js';
import type { IngestAdmission } from './ingest-admission.js';

export interface ProjectEventsDeps {
  /** The project's datasources by name; feature_events is not among them (its own path serves it). */
  datasources: () => ReadonlyMap<string, DatasourceFile> | undefined;
  /** The write path of every datasource (the spool, or Kafka). */
  sink: () => EventSink | undefined;
  tokens: TokenStore;
  maxBodyBytes: number;
  log: Log;
  metrics?: Metrics;
  /** Redacts or quarantines personal data in rows (src/ingest/pii); none when PII_POLICY=off. */
  pii?: PiiGuard;
  /** Bounds the bytes of bodies read and parsed at once (src/http/ingest-admission.ts). */
  admission?: IngestAdmission;
}

/**
 * POST /v0/events?name=<project datasource>: the Events API for a project's datasources.
 * Rows are validated against the .datasource SCHEMA (bad ones to <ds>_quarantine with their
 * reasons) and take feature_events' path: the spool or Kafka (202 once durable there), then
 * batches across requests, inserted under the queue range's token with poison rows isolated.
 * Other names pass through to the feature_events route.
 */
export function projectEvents(deps: ProjectEventsDeps) {
  return async (c: Context, next: Next) => {
    const name = c.req.query('name') ?? '';
    const ds = deps.datasources()?.get(name);
    if (c.req.method !== 'POST' || !ds) return next();
    const auth = authorize(c, deps.tokens, 'DATASOURCES:APPEND', name, DOCS.events);
    if (!auth.ok) return auth.response;
    return appendBody(c, deps, (body) => ({ ...parseDatasourceBody(ds, body, deps.pii), datasource: name }));
  };
}
