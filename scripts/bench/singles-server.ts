/**
 * node --import tsx scripts/bench/singles-server.ts <port> <dir> <piece,piece,...|bare|app> <admin token>
 *
 * The single-event write path assembled from its pieces, for scripts/bench/singles-cost.ts to
 * measure what each costs per request. `bare` is Hono + @hono/node-server reading the body and
 * answering 202 (the ceiling); `app` is the service's own createApp over the same sink;
 * otherwise the pieces named are mounted in createApp's order:
 *   reqlog (request id, access line at LOG_LEVEL=warn, as the bench runs), cors, ratelimit,
 *   size (declared-size guard + drain of refused bodies), auth, body, parse, pii, metrics,
 *   spool (the fsynced spool; its batches are discarded instead of inserted), wait (the reply
 *   waits for the spool's durable ack; without it the append runs but the reply does not
 *   wait). Without spool the rows go nowhere. Prints "ready" when listening.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { TokenStore } from '../../src/auth/index.js';
import { createApp } from '../../src/http/app.js';
import { appendBody } from '../../src/http/append-rows.js';
import { identify, requireScope } from '../../src/http/auth.js';
import { DOCS } from '../../src/http/errors.js';
import { rateLimit } from '../../src/http/rate-limit.js';
import { requestLog } from '../../src/http/request-log.js';
import { parseEventsBody, readBody } from '../../src/ingest/index.js';
import { piiGuardFromConfig } from '../../src/ingest/pii/index.js';
import type { BatchWriter } from '../../src/loader/batch-writer.js';
import { SpoolLoader } from '../../src/loader/spool-loader.js';
import { createLog } from '../../src/log/index.js';
import { createMetrics } from '../../src/metrics/registry.js';
import type { Acceptance, EventSink, IngestRows } from '../../src/queue/types.js';

const [portArg, dir, spec, TOKEN] = process.argv.slice(2) as [string, string, string, string];
const pieces = new Set(spec.split(','));
const on = (p: string) => pieces.has(p) || pieces.has('app');
const MAX_BODY = 10 * 1024 * 1024;

// The loader's inserts are not measured here: the writer stores nothing.
const nullWriter = {
  selectRange: () => [],
  writeRange: async () => {},
  observer: { insertRetried() {} },
} as unknown as BatchWriter;

async function sinkOf(): Promise<EventSink> {
  const real = await SpoolLoader.open({
    dir,
    batchMaxRows: 10_000,
    batchMaxWaitMs: 250,
    maxPendingBytes: 256 * 1024 * 1024,
    writer: nullWriter,
  });
  if (on('spool')) return real;
  const done: Acceptance = { committed: Promise.resolve() };
  return {
    append: async (_rows: IngestRows) => done,
    checkCapacity: (bytes) => real.checkCapacity(bytes),
    close: () => real.close(),
  };
}

const tokens = new TokenStore([{ name: 'admin token', token: TOKEN, scopes: [{ type: 'ADMIN' }] }], TOKEN);
const log = createLog('warn');
const metrics = on('metrics') ? createMetrics() : undefined;
const pii = on('pii') ? piiGuardFromConfig({ PII_POLICY: 'redact', DATA_DIR: dir }) : undefined;
const sink = await sinkOf();

let app: Hono;
if (pieces.has('bare')) {
  app = new Hono();
  app.post('/v0/events', async (c) => {
    await c.req.arrayBuffer();
    return c.json({ successful_rows: 1, quarantined_rows: 0, redacted_rows: 0 }, 202);
  });
} else if (pieces.has('app')) {
  app = createApp({
    state: { ready: true, startedAt: Date.now(), sink },
    tokens,
    datasources: new Set(['feature_events']),
    maxBodyBytes: MAX_BODY,
    log,
    metrics,
    pii,
  });
} else {
  app = new Hono({ strict: false });
  if (on('reqlog')) app.use('*', requestLog({ log, metrics }));
  if (on('cors'))
    app.use('/v0/*', async (c, next) => {
      await next();
      c.res.headers.set('Access-Control-Allow-Origin', '*');
    });
  if (on('ratelimit'))
    app.use('/v0/events', rateLimit({ limit: 0, windowSeconds: 1, tokens, documentation: DOCS.events }));
  if (on('size'))
    app.use('/v0/events', async (c, next) => {
      if (Number(c.req.header('content-length') ?? 0) > MAX_BODY) return c.text('too large', 413);
      await next();
      if (c.res.status >= 400 && c.res.status !== 413) await c.req.raw.arrayBuffer().catch(() => {});
    });
  app.post('/v0/events', async (c) => {
    if (on('auth')) {
      const who = identify(c, tokens, DOCS.events);
      if (!who.ok) return who.response;
      const denied = requireScope(c, tokens, who.token, 'DATASOURCES:APPEND', 'feature_events', DOCS.events);
      if (denied) return denied;
    }
    if (!on('body')) return c.json({ successful_rows: 1, quarantined_rows: 0, redacted_rows: 0 }, 202);
    if (!on('parse')) {
      await readBody(c.req.raw, MAX_BODY);
      return c.json({ successful_rows: 1, quarantined_rows: 0, redacted_rows: 0 }, 202);
    }
    const waiting: EventSink = on('wait')
      ? sink
      : {
          append: (rows) => {
            sink.append(rows).catch(() => {});
            return Promise.resolve({ committed: Promise.resolve() });
          },
          checkCapacity: (bytes) => sink.checkCapacity(bytes),
          close: () => sink.close(),
        };
    return appendBody(c, { sink: () => waiting, maxBodyBytes: MAX_BODY, log, metrics }, (b) =>
      parseEventsBody(b, pii),
    );
  });
}

serve({ fetch: app.fetch, port: Number(portArg), hostname: '127.0.0.1' }, () => {
  process.stdout.write('ready\n');
});
process.on('SIGTERM', () => void sink.close().finally(() => process.exit(0)));
