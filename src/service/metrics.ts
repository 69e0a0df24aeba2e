import type { serve as honoServe } from '@hono/node-server';
import type { Store } from '../clickhouse/store.js';
import { EVENTS_TABLE, QUARANTINE_TABLE } from '../clickhouse/tables.js';
import type { Config } from '../config/index.js';
import { startMetricsListener } from '../http/metrics-listener.js';
import type { LoaderObserver } from '../loader/observer.js';
import type { Log } from '../log/index.js';
import { cachedSource } from '../metrics/cached-source.js';
import { kafkaLagReader } from '../metrics/kafka-lag.js';
import { loaderMetrics } from '../metrics/loader-metrics.js';
import type { Metrics } from '../metrics/registry.js';
import { tableStatsReader } from '../metrics/table-stats.js';
import { createKafka } from '../queue/kafka.js';

/** How long a scrape waits for system.parts or Kafka before it answers the last values. */
const SCRAPE_WAIT_MS = 2_000;

/** The loader's hook into the metrics (batches, inserts, retries). */
export function loaderObserver(metrics: Metrics): LoaderObserver {
  return loaderMetrics(metrics, { events: EVENTS_TABLE, quarantine: QUARANTINE_TABLE });
}

/**
 * Connects the scrape-time gauges to what they read (the queue's pending bytes, system.parts,
 * the Kafka group's offsets) and starts the METRICS_PORT listener when it is set. Runs once
 * storage and the pipeline are up.
 */
export async function startMetricSources(deps: {
  config: Config;
  metrics: Metrics;
  /** The pipeline's stats (pending_bytes); undefined in a consumer-only process. */
  stats: () => Record<string, unknown> | undefined;
  store: Store;
  log: Log;
  serve: typeof honoServe;
}): Promise<{ stop(): Promise<void> }> {
  const { config, metrics, log } = deps;
  const cache = { maxAgeMs: config.METRICS_CACHE_SECONDS * 1000, waitMs: SCRAPE_WAIT_MS };
  metrics.sources.pending = () => {
    const bytes = deps.stats()?.pending_bytes;
    if (typeof bytes !== 'number') return undefined;
    return { queue: config.KAFKA_BROKERS ? 'kafka' : 'spool', bytes, max: config.MAX_PENDING_BYTES };
  };
  metrics.sources.tables = cachedSource(
    tableStatsReader((sql) => deps.store.query(sql)),
    {
      ...cache,
      empty: [],
      onError: (err) => log('warn', 'metrics: reading system.parts failed', { error: String(err) }),
    },
  );
  const admin = config.KAFKA_BROKERS ? createKafka(config, log, '-metrics').admin() : undefined;
  if (admin) {
    metrics.sources.kafkaLag = cachedSource(
      kafkaLagReader(admin, config.KAFKA_GROUP_ID, [config.KAFKA_TOPIC, config.KAFKA_QUARANTINE_TOPIC]),
      {
        ...cache,
        empty: [],
        onError: (err) =>
          log('warn', 'metrics: reading the Kafka consumer lag failed', { error: String(err) }),
      },
    );
  }
  const host = config.METRICS_HOST ?? config.HOST;
  const listener = config.METRICS_PORT
    ? await startMetricsListener({
        port: config.METRICS_PORT,
        host,
        registry: metrics.registry,
        serve: deps.serve,
        log,
      }).catch((err: NodeJS.ErrnoException) => {
        throw new Error(
          `METRICS_PORT=${config.METRICS_PORT}: cannot listen on ${host}: ${err.code === 'EADDRINUSE' ? 'the port is already in use; set METRICS_PORT to a free port' : err.message}`,
        );
      })
    : undefined;
  return {
    async stop() {
      await listener?.close();
      await admin?.disconnect().catch(() => {});
    },
  };
}
