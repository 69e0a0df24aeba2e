import { createHash } from 'node:crypto';
import type { Context, Next } from 'hono';
import type { TokenStore } from '../auth/index.js';
import type { Store } from '../clickhouse/store.js';
import { BodyError, readBody } from '../ingest/index.js';
import type { PiiGuard } from '../ingest/pii/index.js';
import { insertBatchIsolating } from '../loader/insert-batch.js';
import type { Log } from '../log/index.js';
import type { DatasourceFile } from '../project/datasource-file.js';
import { parseDatasourceBody } from '../project/rows.js';
import { authorize } from './auth.js';
import { DOCS, jsonError } from './errors.js';

export interface ProjectEventsDeps {
  /** The project's datasources by name; feature_events is not among them (its own path serves it). */
  datasources: () => ReadonlyMap<string, DatasourceFile> | undefined;
  /** Where rows are written (tracked, so cached pipe answers are dropped after). */
  store: () => Store | undefined;
  tokens: TokenStore;
  maxBodyBytes: number;
  log: Log /** Redacts or quarantines personal data in rows (src/ingest/pii); none when PII_POLICY=off. */;
  pii?: PiiGuard;
}

/**
 * POST /v0/events?name=<project datasource>: the Events API for a project's datasources.
 * Rows are validated against the .datasource SCHEMA (bad ones to <ds>_quarantine with their
 * reasons), then inserted before the answer, through the same insert as feature_events
 * (insertBatchIsolating: poison rows isolated into quarantine) with a token derived from
 * the body: a client re-sending the same request after a timeout stores nothing twice.
 * Other names pass through to the feature_events route.
 */
export function projectEvents(deps: ProjectEventsDeps) {
  return async (c: Context, next: Next) => {
    const name = c.req.query('name') ?? '';
    const ds = deps.datasources()?.get(name);
    if (c.req.method !== 'POST' || !ds) return next();
    const auth = authorize(c, deps.tokens, 'DATASOURCES:APPEND', name, DOCS.events);
    if (!auth.ok) return auth.response;
    const store = deps.store();
    if (!store) return jsonError(c, 503, 'Not ready yet, retry shortly', DOCS.events, { 'Retry-After': '1' });
    let body: Buffer;
    try {
      body = await readBody(c.req.raw, deps.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyError) return jsonError(c, err.status, err.message);
      throw err;
    }
    const rows = parseDatasourceBody(ds, body, deps.pii);
    if (rows.events.length + rows.quarantine.length === 0)
      return jsonError(c, 400, 'Empty body: send one JSON object, or NDJSON with one object per line');
    const batchId = `${name}:${createHash('sha256').update(body).digest('hex').slice(0, 32)}`;
    try {
      const report = await insertBatchIsolating(store, rows, batchId, {
        events: name,
        quarantine: `${name}_quarantine`,
      });
      const reply = {
        successful_rows: rows.events.length - report.rejectedEvents.length,
        quarantined_rows: rows.quarantine.length + report.rejectedEvents.length,
        redacted_rows: rows.redacted,
      };
      return c.json(reply, c.req.query('wait') === 'true' ? 200 : 202);
    } catch (err) {
      deps.log('error', 'ingest into a project datasource failed', {
        datasource: name,
        error: (err as Error).message,
      });
      return jsonError(
        c,
        503,
        'Could not store the rows; nothing was acknowledged: retry later',
        DOCS.events,
        {
          'Retry-After': '1',
        },
      );
    }
  };
}
