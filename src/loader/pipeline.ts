import { join } from 'node:path';
import type { Store } from '../clickhouse/store.js';
import type { Config } from '../config/index.js';
import { retry } from '../lib/retry.js';
import type { Log } from '../log/index.js';
import type { StoreHealth } from '../queue/health.js';
import { createKafkaSink } from '../queue/kafka-sink.js';
import type { EventSink } from '../queue/types.js';
import { BatchWriter } from './batch-writer.js';
import { type KafkaLoaderHandle, startKafkaLoader } from './kafka-loader.js';
import type { LoaderObserver } from './observer.js';
import { SpoolLoader } from './spool-loader.js';

/** The write path of one process, whatever the mode: where the api hands rows, and how to stop it. */
export interface Pipeline {
  /** Undefined in a consumer-only process (ROLE=consumer). */
  sink?: EventSink;
  /** Rows accepted and not yet stored, for /v0/health. */
  stats(): Record<string, unknown>;
  /** Stops accepting, drains for at most `timeoutMs`, stops loading. */
  close(timeoutMs: number): Promise<void>;
}

/** Startup's retries: ClickHouse may come up after us (compose), so keep trying for a while. */
const STARTUP_RETRY = { minMs: 200, maxMs: 5_000, attempts: 30 };

/**
 * The pipeline for the configured mode. Embedded (no KAFKA_BROKERS): the spool loader, queue
 * and batcher in this process. Kafka: the producer sink (unless ROLE=consumer) and the
 * Kafka loader (unless ROLE=api). Both loaders hand batches to the same BatchWriter over the
 * same Store, so dedup, the poison split and the exactly-once tokens are one code path.
 */
export async function createPipeline(deps: {
  config: Config;
  store: Store;
  log: Log;
  health: StoreHealth;
  /** Told of stored batches and failed inserts (metrics). */
  observer?: LoaderObserver;
  /** The project's datasources besides feature_events: rows for them take the same path. */
  datasources?: Iterable<string>;
}): Promise<Pipeline> {
  const { config, store, log, health, observer, datasources } = deps;
  if (!config.KAFKA_BROKERS) {
    const writer = new BatchWriter(store, { dedupWindow: config.DEDUP_WINDOW, log, observer, datasources });
    await retry(() => writer.warm(), {
      ...STARTUP_RETRY,
      onError: (err, attempt) =>
        log('warn', 'loading the dedup window failed, retrying', { attempt, error: String(err) }),
    });
    const spool = await SpoolLoader.open({
      dir: join(config.DATA_DIR, 'spool'),
      writer,
      batchMaxRows: config.BATCH_MAX_ROWS,
      batchMaxWaitMs: config.BATCH_MAX_WAIT_MS,
      batchMinIntervalMs: config.BATCH_MIN_INTERVAL_MS,
      maxPendingBytes: config.MAX_PENDING_BYTES,
      memoryBytes: config.SPOOL_MEMORY_BYTES,
      log,
      health,
    });
    return { sink: spool, stats: () => spool.stats(), close: (timeoutMs) => spool.close(timeoutMs) };
  }
  let loader: KafkaLoaderHandle | undefined;
  let sink: EventSink | undefined;
  if (config.ROLE !== 'api')
    loader = await startKafkaLoader({
      store,
      config,
      log,
      sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
      dedupWindow: config.DEDUP_WINDOW,
      health,
      observer,
      datasources,
    });
  if (config.ROLE !== 'consumer')
    sink = await createKafkaSink(config, log, {
      idempotent: config.KAFKA_IDEMPOTENT,
      health,
      maxLagRows: config.KAFKA_MAX_LAG_ROWS,
    });
  return {
    sink,
    stats: () => ({ ...sink?.stats?.() }),
    async close(timeoutMs) {
      await sink?.close(timeoutMs);
      await loader?.stop();
    },
  };
}
