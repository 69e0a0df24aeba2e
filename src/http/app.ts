import { type Context, Hono } from 'hono';
import { cors } from 'hono/cors';
import type { TokenStore } from '../auth/index.js';
import type { TokenRegistry } from '../auth/token-registry.js';
import type { Reader } from '../clickhouse/reader.js';
import { dashboardRoute } from '../dashboard/index.js';
import type { PiiGuard } from '../ingest/pii/index.js';
import type { Log } from '../log/index.js';
import type { Metrics } from '../metrics/registry.js';
import type { RunningProject } from '../project/index.js';
import type { EventSink } from '../queue/types.js';
import type { Quotas } from '../quota/quotas.js';
import { copyRoute } from './copy-route.js';
import { datasourcesRoute } from './datasources-route.js';
import { DOCS, jsonError } from './errors.js';
import { eventsRoute } from './events-route.js';
import type { IngestAdmission } from './ingest-admission.js';
import { jwtAdmission } from './jwt-admission.js';
import { localTokens } from './local-tokens.js';
import { metricsRoute } from './metrics-route.js';
import { projectEvents } from './project-events-route.js';
import { countIngestedRows, countPipeRequests, quotasRoute } from './quota.js';
import { rateLimit } from './rate-limit.js';
import { markUnmatched, requestLog } from './request-log.js';
import { sqlRoute } from './sql-route.js';
import { tokensRoute } from './tokens-route.js';

/** What the running process knows about itself; routes read it on every request. */
export interface ServiceState {
  /** Set once migrations ran and the sink is open. */
  sink?: EventSink;
  ready: boolean;
  startedAt: number;
  stats?: () => Record<string, unknown>;
  /** The read-only session that runs /v0/sql (src/clickhouse/read-only.ts). */
  sqlReader?: Reader;
  /** Why rows cannot be stored right now (empty when they can); runs the causes' probes. */
  storeProblems?: () => Promise<string[]>;
  /** Set at SIGTERM: /v0/ready says so. */
  stopping?: boolean;
  /** The pipes app (GET /v0/pipes/...), set once the .pipe files are loaded. */
  pipes?: Hono;
  /** The project's datasources and copy pipes (src/project). */
  project?: Pick<RunningProject, 'datasources' | 'copies'>;
}

export interface AppDeps {
  state: ServiceState;
  tokens: TokenStore;
  datasources: ReadonlySet<string>;
  maxBodyBytes: number;
  log: Log;
  /** /v0/tokens: created tokens, persisted; the admin token signs JWTs. */
  tokenApi?: { registry: TokenRegistry; adminToken: string };
  /** Daily quotas per token (src/quota); counted only when set. */
  quotas?: Quotas;
  /** Requests per token per window (0 = no limit) and the window length. */
  rateLimit?: { limit: number; windowSeconds: number };
  /** Served by GET /tokens (Tinybird Local's) to loopback clients. */
  adminToken?: string;
  /** GET /metrics (METRICS:READ tokens), HTTP and ingest metrics (src/metrics). */
  metrics?: Metrics;
  /** The PII guard every ingested row passes (src/ingest/pii); none with PII_POLICY=off. */
  pii?: PiiGuard;
  /** Bounds the bytes of Events API bodies read and parsed at once (INGEST_MAX_INFLIGHT_BYTES). */
  admission?: IngestAdmission;
}

export function createApp(deps: AppDeps): Hono {
  // strict: false so /v0/pipes/ and /v0/pipes answer alike.
  const app = new Hono({ strict: false });
  // First: it times everything after it, and writes the access line and the request id.
  app.use('*', requestLog({ log: deps.log, metrics: deps.metrics }));
  if (deps.metrics)
    app.route('/metrics', metricsRoute({ registry: deps.metrics.registry, tokens: deps.tokens }));
  // Browser trackers post JSON cross-origin: preflight must succeed. Hono's cors answers
  // the preflight; on other requests it would set its header on c.res before the handler
  // runs, and Hono then rebuilds the handler's response around it, which turns
  // @hono/node-server's lightweight Response into a full web Response (a body stream)
  // on every request. Setting the same header after the handler is equivalent for
  // origin '*' and keeps the fast path.
  const preflight = cors({
    origin: '*',
    allowHeaders: ['Authorization', 'Content-Type', 'Content-Encoding'],
  });
  app.use('/v0/*', async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    await next();
    c.res.headers.set('Access-Control-Allow-Origin', '*');
  });

  app.get('/v0/health', (c) =>
    c.json({
      status: 'ok',
      ready: deps.state.ready,
      uptime_s: Math.round((Date.now() - deps.state.startedAt) / 1000),
    }),
  );
  // Readiness: 503 until migrations have run and the queue is open, while rows cannot be
  // stored (a full disk, ClickHouse or Kafka failing: recovers by itself), and once stopping.
  app.get('/v0/ready', async (c) => {
    if (!deps.state.ready) {
      const error = deps.state.stopping ? 'stopping' : 'starting: migrations or queue not ready yet';
      return c.json({ ready: false, error }, 503);
    }
    const problems = (await deps.state.storeProblems?.()) ?? [];
    if (problems.length > 0) {
      return c.json(
        { ready: false, error: `cannot store rows: ${problems.join('; ')}`, ...deps.state.stats?.() },
        503,
      );
    }
    return c.json({ ready: true, ...deps.state.stats?.() });
  });

  // JWT read tokens are verified before any limit or route looks the token up.
  app.use('/v0/pipes', jwtAdmission(deps.tokens, DOCS.pipes));
  app.use('/v0/pipes/*', jwtAdmission(deps.tokens, DOCS.pipes));
  if (deps.quotas) {
    const pipes = countPipeRequests(deps.tokens, deps.quotas, deps.log);
    app.use('/v0/pipes/:file{.+\\..+}', pipes);
    const rows = countIngestedRows(deps.tokens, deps.quotas, deps.log);
    app.use('/v0/events', rows);
    app.use('/v0/datasources', rows);
    app.route('/v0/quotas', quotasRoute(deps.tokens, deps.quotas));
  }
  // Always on: with no limit configured the headers still go out (Tinybird always sends them).
  {
    const limit = (documentation: string) =>
      rateLimit({ limit: 0, windowSeconds: 1, ...deps.rateLimit, tokens: deps.tokens, documentation });
    app.use('/v0/events', limit(DOCS.events));
    app.use('/v0/sql', limit(DOCS.pipes));
    const pipes = limit(DOCS.pipes);
    app.use('/v0/pipes', pipes);
    app.use('/v0/pipes/*', pipes);
  }

  // A declared size over the limit is refused before anything else (even auth). Only the
  // header is read here: the route enforces the exact limit while it reads the body
  // (readBody), so a chunked body cannot exceed it either. Hono's bodyLimit would do the
  // same but touches the body stream, which makes @hono/node-server build a full web
  // Request (ReadableStream, AbortSignal) for every request: a third of the CPU of a
  // small request.
  app.use('/v0/events', async (c, next) => {
    const declared = Number(c.req.header('content-length') ?? 0);
    if (declared > deps.maxBodyBytes)
      return jsonError(
        c,
        413,
        `Request body is larger than ${deps.maxBodyBytes} bytes: split it into several requests`,
      );
    await next();
    // A refusal sent before the body was read (401, 403, 404, 503 backpressure, ...): read
    // and drop the body, or Node closes the keep-alive connection under a client still
    // writing, which it sees as ECONNRESET instead of our answer. (413 closes on purpose;
    // a body already read makes arrayBuffer() throw, which is ignored.)
    if (c.res.status >= 400 && c.res.status !== 413) await c.req.raw.arrayBuffer().catch(() => {});
  });
  // A project's own datasources (src/project); feature_events goes on to its route.
  app.use(
    '/v0/events',
    projectEvents({
      datasources: () => (deps.state.ready ? deps.state.project?.datasources : undefined),
      sink: () => (deps.state.ready ? deps.state.sink : undefined),
      tokens: deps.tokens,
      maxBodyBytes: deps.maxBodyBytes,
      log: deps.log,
      metrics: deps.metrics,
      pii: deps.pii,
      admission: deps.admission,
    }),
  );
  app.route(
    '/v0/events',
    eventsRoute({
      sink: () => (deps.state.ready ? deps.state.sink : undefined),
      tokens: deps.tokens,
      datasources: deps.datasources,
      maxBodyBytes: deps.maxBodyBytes,
      log: deps.log,
      metrics: deps.metrics,
      pii: deps.pii,
      admission: deps.admission,
    }),
  );

  if (deps.tokenApi) app.route('/v0/tokens', tokensRoute({ tokens: deps.tokens, ...deps.tokenApi }));
  app.route(
    '/v0/datasources',
    datasourcesRoute({
      reader: () => (deps.state.ready ? deps.state.sqlReader : undefined),
      sink: () => (deps.state.ready ? deps.state.sink : undefined),
      tokens: deps.tokens,
      datasources: deps.datasources,
      maxUploadBytes: 10 * deps.maxBodyBytes,
      log: deps.log,
      metrics: deps.metrics,
      pii: deps.pii,
      admission: deps.admission,
    }),
  );

  if (deps.adminToken) app.get('/tokens', localTokens(deps.adminToken));

  app.route(
    '/v0/sql',
    sqlRoute({ reader: () => (deps.state.ready ? deps.state.sqlReader : undefined), tokens: deps.tokens }),
  );

  // The pipes app is built once storage is up (it reads result columns at load).
  const forwardToPipes = (c: Context) => {
    const pipes = deps.state.pipes;
    if (!pipes) return jsonError(c, 503, 'Not ready yet, retry shortly', DOCS.pipes, { 'Retry-After': '1' });
    const url = new URL(c.req.url);
    url.pathname = url.pathname.slice('/v0/pipes'.length) || '/';
    return pipes.fetch(new Request(url, c.req.raw), c.env);
  };
  app.post(
    '/v0/pipes/:pipe/copy',
    copyRoute({ copies: () => deps.state.project?.copies, tokens: deps.tokens }),
  );
  app.all('/v0/pipes', forwardToPipes);
  app.all('/v0/pipes/*', forwardToPipes);

  app.route('/', dashboardRoute());

  app.notFound((c) => {
    markUnmatched(c);
    return jsonError(c, 404, `Not found: ${c.req.method} ${new URL(c.req.url).pathname}`);
  });
  app.onError((err, c) => {
    deps.log('error', 'unhandled error', {
      error: err.message,
      path: new URL(c.req.url).pathname,
      request_id: c.get('requestId'),
    });
    return jsonError(c, 500, 'Internal error');
  });
  return app;
}
