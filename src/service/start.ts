import type { Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import type { serve as honoServe } from '@hono/node-server';
import { parseTokenList, resolveAdminToken, TokenConfigError, TokenStore } from '../auth/index.js';
import { TokenRegistry } from '../auth/token-registry.js';
import { withInsertFaults } from '../clickhouse/fault-injection.js';
import { createStorageClient, type Reader, type StorageClient } from '../clickhouse/index.js';
import { schemaProfile } from '../clickhouse/migrations/profile.js';
import { type SchemaGate, serviceSchemaGate } from '../clickhouse/migrations/schema-gate.js';
import { PIPE_READER, userSqlReader } from '../clickhouse/read-only.js';
import { applyConfiguredRetention } from '../clickhouse/retention/index.js';
import { sessionPool } from '../clickhouse/session-pool.js';
import { trackWrites, type WriteGeneration } from '../clickhouse/write-generation.js';
import { type Config, ConfigError, loadConfig } from '../config/index.js';
import { secretsFromEnv } from '../config/secrets.js';
import { createApp, type ServiceState } from '../http/app.js';
import { ingestAdmission } from '../http/ingest-admission.js';
import { createPipesApp } from '../http/pipes-route.js';
import { PiiConfigError, type PiiGuard, piiGuardFromConfig } from '../ingest/pii/index.js';
import { createPipeline, type Pipeline } from '../loader/pipeline.js';
import { createLog } from '../log/index.js';
import { createMetrics } from '../metrics/registry.js';
import { formatLoadErrors } from '../pipes/index.js';
import { ReadCoalescer } from '../pipes/read-coalescer.js';
import { ResultCache } from '../pipes/result-cache.js';
import { withRetentionVar } from '../pipes/retention-window.js';
import { projectDirOf, type RunningProject, startProject } from '../project/index.js';
import { StoreHealth } from '../queue/health.js';
import { QuotaConfigError, type Quotas, quotasFromConfig } from '../quota/from-config.js';
import { startSqlHttpListener } from '../sql-http/listen.js';
import { banner } from './banner.js';
import { heapWarning } from './heap-budget.js';
import { loaderObserver, startMetricSources } from './metrics.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MIGRATIONS_DIR = join(ROOT, 'clickhouse');
export const DATASOURCES: ReadonlySet<string> = new Set(['feature_events']);

export interface RunningService {
  config: Config;
  state: ServiceState;
  /** Graceful stop; resolves to the exit code. */
  stop(signal?: string): Promise<number>;
}

/** Prints what is wrong with the configuration and exits 2 (no stack trace). */
function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

export async function startService(
  env: NodeJS.ProcessEnv,
  deps: { serve: typeof honoServe },
): Promise<RunningService> {
  let config: Config;
  let tokens: TokenStore;
  let admin: { token: string; generated: boolean };
  let registry: TokenRegistry;
  let quotas: Quotas | undefined;
  let pii: PiiGuard | undefined;
  try {
    config = loadConfig(env);
    admin = resolveAdminToken(config.TB_ADMIN_TOKEN, config.DATA_DIR);
    tokens = new TokenStore(
      [
        { name: 'admin token', token: admin.token, scopes: [{ type: 'ADMIN' }] },
        ...parseTokenList(config.TB_TOKENS),
      ],
      admin.token,
    );
    registry = new TokenRegistry(tokens, config.DATA_DIR);
    quotas = quotasFromConfig(config);
    pii = piiGuardFromConfig(config);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    if (err instanceof TokenConfigError) fail(`invalid configuration:\n  TB_TOKENS: ${err.message}`);
    if (err instanceof QuotaConfigError) fail(`invalid configuration:\n  ${err.message}`);
    if (err instanceof PiiConfigError) fail(`invalid configuration:\n  ${err.message}`);
    throw err;
  }
  const log = createLog(config.LOG_LEVEL);
  const heapTooSmall = heapWarning(config, getHeapStatistics().heap_size_limit);
  if (heapTooSmall) log('warn', heapTooSmall);
  const state: ServiceState = { ready: false, startedAt: Date.now() };
  const metrics = createMetrics();
  const admission = ingestAdmission({
    maxBytes: config.INGEST_MAX_INFLIGHT_BYTES,
    maxWaitMs: config.INGEST_ADMISSION_WAIT_MS,
  });
  metrics.sources.admission = admission.stats;
  const app = createApp({
    metrics,
    state,
    tokens,
    datasources: DATASOURCES,
    maxBodyBytes: config.MAX_BODY_BYTES,
    log,
    rateLimit: { limit: config.RATE_LIMIT_REQUESTS, windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS },
    tokenApi: { registry, adminToken: admin.token },
    quotas,
    adminToken: admin.token,
    pii,
    admission,
  });

  // Listen first: /v0/health answers (and /v0/ready says "not yet") while storage starts.
  const server = await new Promise<Server>((resolve) => {
    const s = deps.serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, () =>
      resolve(s as Server),
    );
    s.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE')
        fail(`PORT=${config.PORT}: the port is already in use; set PORT to a free port`);
      fail(`cannot listen on ${config.HOST}:${config.PORT}: ${err.message}`);
    });
  });

  let storage: StorageClient;
  let pipeReaders: Reader[];
  let pipeline: Pipeline;
  let writes: WriteGeneration;
  let schema: SchemaGate | undefined;
  let loaded: RunningProject;
  const health = new StoreHealth();
  try {
    storage = await createStorageClient(config);
    // Migrates (ROLE=all) or waits for `npm run migrate`; a writer also takes its lease.
    schema = await serviceSchemaGate(config, storage, MIGRATIONS_DIR, log);
    const report = schema.report ?? { applied: [], skipped: [] };
    log('info', 'migrations done', { applied: report.applied, already_applied: report.skipped.length });
    writes = trackWrites(storage.store);
    // The project (the shipped pipes/ unless PROJECT_DIR): datasources, views, tokens, pipes.
    // Before the pipeline: the queue may replay rows for its datasources, into their tables.
    loaded = await startProject({
      dir: projectDirOf(config),
      client: storage.admin,
      writes,
      dataDir: config.DATA_DIR,
      tokens,
      log,
    }).catch((err: Error) => {
      server.close();
      return fail(`cannot apply the project: ${err.message}`);
    });
    // TEST ONLY (FAULT_INSERT_FAIL_EVERY): the loaders' inserts fail now and then.
    const store = withInsertFaults(writes.store, config.FAULT_INSERT_FAIL_EVERY, (n) =>
      log('warn', 'injected insert fault', { fault: n }),
    );
    pipeline = await createPipeline({
      config,
      store,
      log,
      health,
      observer: loaderObserver(metrics),
      datasources: [...loaded.datasources.keys()],
    });
    // Every reader is read-only from its creation: PIPE_SESSIONS sessions for the pipes (so
    // queries run side by side) and one for user SQL, with limits it cannot lift.
    pipeReaders = [];
    for (let i = 0; i < config.PIPE_SESSIONS; i++)
      pipeReaders.push(await storage.readOnlySession(PIPE_READER));
    state.sqlReader = await storage.readOnlySession(
      userSqlReader({
        maxExecutionSeconds: config.SQL_MAX_EXECUTION_SECONDS,
        maxResultBytes: config.SQL_MAX_RESULT_BYTES,
        maxMemoryBytes: config.SQL_MAX_MEMORY_BYTES,
      }),
    );
  } catch (err) {
    server.close();
    fail(`cannot start storage: ${(err as Error).message}`);
  }
  state.project = { datasources: loaded.datasources, copies: loaded.copies };
  // Retention TTLs, by the process that migrates (README: RAW_RETENTION_DAYS); after the
  // project so its datasources' quarantine tables exist.
  if (schema?.report) {
    const ttl = await applyConfiguredRetention(
      storage.admin,
      config,
      schemaProfile(config),
      loaded.datasources.keys(),
      {
        holder: schema.writer,
      },
    ).catch((err: Error) =>
      fail(`cannot apply RAW_RETENTION_DAYS / QUARANTINE_RETENTION_DAYS: ${err.message}`),
    );
    if (ttl.length > 0) log('info', 'retention applied', { statements: ttl });
  }
  if (loaded.errors.length > 0) {
    // A broken file is reported and skipped; the other pipes still serve.
    log('error', `some pipes were not loaded:\n${formatLoadErrors(loaded.errors)}`);
  }
  const cacheOn = config.PIPE_CACHE === 'on' || (config.PIPE_CACHE === 'auto' && storage.kind === 'embedded');
  const cache =
    cacheOn && config.PIPE_CACHE_TTL_MS > 0
      ? new ResultCache({
          ttlMs: config.PIPE_CACHE_TTL_MS,
          maxBytes: config.PIPE_CACHE_MAX_BYTES,
          generation: writes.current,
          // A ClickHouse server has other writers this process does not see (README, Result cache).
          knowsEveryWrite: storage.kind === 'embedded',
        })
      : undefined;
  state.pipes = createPipesApp({
    client: sessionPool(pipeReaders),
    pipes: loaded.pipes,
    tokens,
    cache,
    exportMaxRows: config.EXPORT_MAX_ROWS,
    maxThreads: config.PIPE_MAX_THREADS,
    secrets: withRetentionVar(secretsFromEnv(env), config.RAW_RETENTION_DAYS),
    rawRetentionDays: config.RAW_RETENTION_DAYS,
    metrics,
    // Lookups wait to run as one query only while every reader session is taken.
    coalescer: new ReadCoalescer({
      slots: config.PIPE_SESSIONS,
      onBatch: (pipe, answered) => {
        metrics.pipeBatches.inc({ pipe });
        metrics.pipeCoalesced.inc({ pipe }, answered);
      },
    }),
  });
  log('info', 'pipes loaded', { pipes: [...loaded.pipes.keys()] });
  state.sink = pipeline.sink;
  state.stats = () => pipeline.stats();
  state.storeProblems = () => health.check();
  let sqlListener: { close(): Promise<void> } | undefined;
  if (config.CLICKHOUSE_HTTP_PORT) {
    sqlListener = await startSqlHttpListener({
      port: config.CLICKHOUSE_HTTP_PORT,
      host: config.HOST,
      mode: config.CLICKHOUSE_HTTP_MODE,
      tokens,
      reader: () => (state.stopping ? undefined : state.sqlReader),
      openSession: storage.openSession,
      maxBodyBytes: 1024 * 1024,
      log,
      serve: deps.serve,
    }).catch((err: Error) =>
      fail(
        `CLICKHOUSE_HTTP_PORT=${config.CLICKHOUSE_HTTP_PORT}: cannot start the SQL listener: ${err.message}`,
      ),
    );
  }
  const metricSources = await startMetricSources({
    config,
    metrics,
    stats: () => state.stats?.(),
    store: storage.store,
    log,
    serve: deps.serve,
  }).catch((err: Error) => fail(err.message));
  // Ready only once every listener this process promises is up (a client that waited for
  // /v0/ready met a refused connection on CLICKHOUSE_HTTP_PORT before).
  state.ready = true;
  if (config.LOG_LEVEL !== 'silent') {
    process.stdout.write(
      `${banner({
        port: config.PORT,
        token: admin.token,
        generated: admin.generated,
        storage: `${storage.kind === 'embedded' ? 'embedded chDB at' : 'ClickHouse server'} ${storage.location}`,
        queue: config.KAFKA_BROKERS
          ? `Kafka ${config.KAFKA_BROKERS}`
          : `local spool at ${join(config.DATA_DIR, 'spool')}`,
        role: config.ROLE,
      })}\n`,
    );
  }

  return {
    config,
    state,
    async stop(signal = 'stop') {
      log('info', 'shutting down', { signal });
      state.ready = false;
      state.stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Waiting requests (wait=true) finish as the sink drains.
      await pipeline.close(config.SHUTDOWN_DRAIN_MS);
      await schema?.stop();
      loaded.stop();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
      server.closeAllConnections();
      await sqlListener?.close();
      await metricSources.stop();
      await storage.close();
      log('info', 'stopped', { signal });
      return 0;
    },
  };
}
