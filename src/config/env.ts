import { z } from 'zod';

// Every setting the service reads, validated once at start. A wrong value stops the
// process with a message naming the variable and what was expected (see loadConfig).
const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().min(0);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

export const envSchema = z.object({
  PORT: port.default(7181),
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  ROLE: z.enum(['api', 'consumer', 'all']).default('all'),
  TB_ADMIN_TOKEN: optionalString,
  // Extra scoped tokens: "name:token:SCOPE[,SCOPE...];name2:token2:SCOPE" where SCOPE is
  // ADMIN, DATASOURCES:APPEND:<ds>, DATASOURCES:READ:<ds> or PIPES:READ:<pipe>.
  TB_TOKENS: optionalString,
  // A Tinybird project (.datasource and .pipe files, any folders); unset: the shipped pipes/.
  PROJECT_DIR: optionalString,
  CLICKHOUSE_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a database name: letters, digits and _')
    .default('default'),
  // Cluster profile: tables are Replicated* behind Distributed tables, DDL runs ON CLUSTER
  // (docs/scaling.md). The cluster's name in the servers' remote_servers configuration.
  CLICKHOUSE_CLUSTER: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'a cluster name from remote_servers: letters, digits, _ and -')
      .optional(),
  ),
  // Who applies clickhouse/*.sql. auto: ROLE=all migrates at start (under the migration lock);
  // api and consumer roles only wait until `npm run migrate` has made the schema current.
  MIGRATE_ON_START: z.enum(['auto', 'true', 'false']).default('auto'),
  // How long a role waits for a current schema (and a free migration lock) before it exits.
  SCHEMA_WAIT_SECONDS: positiveInt.default(300),
  // ClickHouse's HTTP interface over the embedded store, for SQL tools (src/sql-http): off
  // unless set (8123 is the convention). Read-only; 'unsafe-writable-for-tests' is for tests.
  CLICKHOUSE_HTTP_PORT: port.optional(),
  CLICKHOUSE_HTTP_MODE: z.enum(['readonly', 'unsafe-writable-for-tests']).default('readonly'),
  KAFKA_BROKERS: optionalString,
  KAFKA_TOPIC: z.string().min(1).default('feature_events'),
  KAFKA_QUARANTINE_TOPIC: z.string().min(1).default('feature_events_quarantine'),
  KAFKA_GROUP_ID: z.string().min(1).default('feature-events-loader'),
  KAFKA_CLIENT_ID: z.string().min(1).default('feature-events'),
  // Idempotent producer (no duplicates from producer retries). librdkafka's mock broker,
  // used in tests, cannot serve it: set false there.
  KAFKA_IDEMPOTENT: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  KAFKA_SESSION_TIMEOUT_MS: positiveInt.default(30_000),
  // Ingest answers 503 while the consumer group is this many rows behind (0 = no bound): Kafka
  // drops what is older than its retention, whether or not it was consumed.
  KAFKA_MAX_LAG_ROWS: nonNegativeInt.default(0),
  // Micro-batching: a batch is inserted when it holds BATCH_MAX_ROWS rows or its oldest
  // row has waited BATCH_MAX_WAIT_MS, whichever comes first.
  BATCH_MAX_ROWS: positiveInt.default(50_000),
  BATCH_MAX_WAIT_MS: positiveInt.default(200),
  // A stream's inserts start at least this far apart unless the batch is full: under a steady
  // stream of small requests a batch then holds this long's rows instead of BATCH_MAX_WAIT_MS's,
  // and each INSERT (with the views, tens of ms of CPU whatever its size) is paid less often.
  // After a quiet spell the next row still waits only BATCH_MAX_WAIT_MS (src/loader/insert-pacing.ts).
  BATCH_MIN_INTERVAL_MS: nonNegativeInt.default(500),
  // Kafka consumer: while other partitions' inserts keep it busy, a partition's rows wait up to
  // this long, so that each insert is bigger (src/loader/insert-pacing.ts). A lone partition
  // waits BATCH_MAX_WAIT_MS; at or below BATCH_MAX_WAIT_MS this is off.
  KAFKA_MAX_WAIT_BEHIND_MS: positiveInt.default(5_000),
  // Bytes accepted but not yet in ClickHouse; past this, ingest answers 503 + Retry-After.
  MAX_PENDING_BYTES: positiveInt.default(256 * 1024 * 1024),
  // Of those, how many bytes of rows the embedded spool also keeps in memory; the rest wait on
  // disk and are read back when their batch is inserted (docs/performance.md, memory).
  SPOOL_MEMORY_BYTES: nonNegativeInt.default(16 * 1024 * 1024),
  MAX_BODY_BYTES: positiveInt.default(10 * 1024 * 1024),
  // Bytes of Events API bodies read and parsed at once; requests past it wait, then 503 +
  // Retry-After after INGEST_ADMISSION_WAIT_MS. Bounds ingest's share of Node's heap
  // (src/http/ingest-admission.ts, docs/operations.md Memory).
  INGEST_MAX_INFLIGHT_BYTES: positiveInt.default(32 * 1024 * 1024),
  INGEST_ADMISSION_WAIT_MS: nonNegativeInt.default(5_000),
  // Requests per token per window (Tinybird's X-RateLimit-* headers, 429 + Retry-After above
  // it). 0 = off, the default: a self-hosted pipeline is usually limited by its capacity,
  // which MAX_PENDING_BYTES already guards with 503s.
  RATE_LIMIT_REQUESTS: nonNegativeInt.default(0),
  RATE_LIMIT_WINDOW_SECONDS: positiveInt.default(1),
  // The batcher remembers this many recently stored event_ids and drops a re-sent one
  // (see docs/reliability.md). 0 = off. About 100 bytes each.
  DEDUP_WINDOW: nonNegativeInt.default(200_000),
  // Pipe answers kept until rows are stored or PIPE_CACHE_TTL_MS passes (src/pipes/result-cache.ts).
  // auto = on with embedded chDB, where this process makes every insert and so knows when
  // data changed; off with a ClickHouse server, which other writers may change.
  PIPE_CACHE: z.enum(['auto', 'on', 'off']).default('auto'),
  PIPE_CACHE_TTL_MS: nonNegativeInt.default(1_000),
  PIPE_CACHE_MAX_BYTES: positiveInt.default(64 * 1024 * 1024),
  // max_threads of one pipe query; 0 = ClickHouse's default (one per core). See docs/performance.md.
  PIPE_MAX_THREADS: nonNegativeInt.default(0),
  // chDB sessions the pipes read through: one session runs one query at a time.
  PIPE_SESSIONS: positiveInt.default(3),
  // Limits of one /v0/sql query, pinned on its read-only session (a query cannot lift them).
  SQL_MAX_EXECUTION_SECONDS: positiveInt.default(30),
  SQL_MAX_RESULT_BYTES: positiveInt.default(100 * 1024 * 1024),
  SQL_MAX_MEMORY_BYTES: positiveInt.default(4 * 1024 * 1024 * 1024),
  // At SIGTERM, how long pending rows may take to reach ClickHouse before the process exits
  // and leaves the rest in the spool for the next start (the stop's bound, see README).
  SHUTDOWN_DRAIN_MS: positiveInt.default(10_000),
  // Rows a .csv pipe answer (an export, e.g. events.csv) stops at; seed 002's limit.
  EXPORT_MAX_ROWS: positiveInt.default(50_000),
  // Days raw events (feature_events) are kept, by event time; the rollups are kept. 0 = forever.
  // Applied as a ClickHouse TTL at start (src/clickhouse/retention; docs/operations.md).
  RAW_RETENTION_DAYS: nonNegativeInt.max(36_500).default(90),
  // Days quarantined rows are kept, by arrival time. 0 = forever.
  QUARANTINE_RETENTION_DAYS: nonNegativeInt.max(36_500).default(30),
  // Daily quotas per token (src/quota): JSON limits, as in seed 002; unset = no limit.
  QUOTA_DEFAULTS: optionalString,
  QUOTA_LIMITS: optionalString,
  QUOTA_MODE: z.enum(['soft', 'hard']).default('soft'),
  // Seed 003, no PII in events (src/ingest/pii): redact it, quarantine its row, or off.
  PII_POLICY: z.enum(['redact', 'quarantine', 'off']).default('redact'),
  // Comma-separated metadata keys to redact at any depth; `default` stands for the built-in list.
  PII_DENY_KEYS: optionalString,
  // The HMAC key for e-mail addresses sent as user_id/account_id; unset: kept in DATA_DIR/pii-hash-key.
  PII_HASH_KEY: optionalString,
  // TEST ONLY: every Nth ClickHouse insert fails (see src/clickhouse/fault-injection.ts).
  FAULT_INSERT_FAIL_EVERY: nonNegativeInt.default(0),
  // GET /metrics without a token on its own listener (docs/operations.md); unset: only the API
  // port's /metrics, for tokens with METRICS:READ. METRICS_HOST defaults to HOST.
  METRICS_PORT: port.optional(),
  METRICS_HOST: optionalString,
  // Rows per table (system.parts) and Kafka lag are read on scrape, at most this often.
  METRICS_CACHE_SECONDS: positiveInt.default(15),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});

export type Config = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '?');
      const got = env[name];
      return `  ${name}=${got === undefined ? '(unset)' : JSON.stringify(got)}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const config = result.data;
  if (config.ROLE !== 'all' && !config.CLICKHOUSE_URL) {
    throw new ConfigError(
      `invalid configuration:\n  ROLE=${config.ROLE}: split roles need CLICKHOUSE_URL. ` +
        'Embedded chDB lets only one process open DATA_DIR, so with chDB run ROLE=all ' +
        '(api and consumer in one process), or point CLICKHOUSE_URL at a ClickHouse server.',
    );
  }
  if (config.CLICKHOUSE_HTTP_PORT && config.CLICKHOUSE_URL) {
    throw new ConfigError(
      `invalid configuration:\n  CLICKHOUSE_HTTP_PORT=${config.CLICKHOUSE_HTTP_PORT}: the listener serves the ` +
        'embedded store; with CLICKHOUSE_URL, SQL users connect to that ClickHouse server directly.',
    );
  }
  if (config.ROLE !== 'all' && !config.KAFKA_BROKERS) {
    throw new ConfigError(
      `invalid configuration:\n  ROLE=${config.ROLE}: split roles need KAFKA_BROKERS ` +
        '(without Kafka there is no queue between the api and the consumer).',
    );
  }
  return config;
}
