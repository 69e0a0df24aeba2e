import { type Context, Hono } from 'hono';
import type { TokenStore } from '../auth/index.js';
import { BodyError, type ParsedRows, parseEventsBody, readBody } from '../ingest/index.js';
import type { PiiGuard } from '../ingest/pii/index.js';
import type { Log } from '../log/index.js';
import { BackpressureError, type EventSink } from '../queue/types.js';
import { identify, requireScope } from './auth.js';
import { DOCS, jsonError } from './errors.js';

export interface EventsRouteDeps {
  sink: () => EventSink | undefined;
  tokens: TokenStore;
  datasources: ReadonlySet<string>;
  maxBodyBytes: number;
  log: Log /** Redacts or quarantines personal data in rows (src/ingest/pii); none when PII_POLICY=off. */;
  pii?: PiiGuard;
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
    const sink = deps.sink();
    if (!sink)
      return jsonError(c, 503, 'Not ready yet: storage is starting, retry shortly', DOCS.events, {
        'Retry-After': '1',
      });

    let rows: ParsedRows;
    try {
      sink.checkCapacity(Number(c.req.header('content-length') ?? 0) || 0);
      // Row problems never throw: each bad row is quarantined with its reason. A throw
      // here is a bug of ours, answered 500 by the app (no Retry-After: the same body
      // would fail again), never the 503 that tells clients to retry.
      rows = parseEventsBody(await readBody(c.req.raw, deps.maxBodyBytes), deps.pii);
    } catch (err) {
      if (err instanceof BodyError) return jsonError(c, err.status, err.message);
      if (err instanceof BackpressureError) return backpressure(c, err);
      throw err;
    }
    if (rows.events.length + rows.quarantine.length === 0) {
      return jsonError(c, 400, 'Empty body: send one JSON object, or NDJSON with one object per line');
    }
    try {
      const acceptance = await sink.append(rows);
      // redacted_rows: stored rows the PII guard changed (they are among successful_rows).
      const reply = {
        successful_rows: rows.events.length,
        quarantined_rows: rows.quarantine.length,
        redacted_rows: rows.redacted,
      };
      if (c.req.query('wait') === 'true') {
        await acceptance.committed;
        return c.json(reply, 200);
      }
      return c.json(reply, 202);
    } catch (err) {
      if (err instanceof BackpressureError) return backpressure(c, err);
      // Only storage is left to fail here (the spool's disk, Kafka): our side, retryable.
      deps.log('error', 'ingest failed', { error: (err as Error).message });
      return jsonError(c, 503, `${storeFailure(err)}; nothing was acknowledged: retry later`, DOCS.events, {
        'Retry-After': '1',
      });
    }
  });
  return app;
}

function backpressure(c: Context, err: BackpressureError) {
  return jsonError(c, 503, `${err.message}. Nothing was ingested: retry later`, DOCS.events, {
    'Retry-After': String(err.retryAfterSeconds),
  });
}

/** What the client is told when the rows could not be stored (the detail is in the log). */
function storeFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'Could not store the rows: the disk is full';
  return 'Could not store the rows';
}
