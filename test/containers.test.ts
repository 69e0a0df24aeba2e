import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClickHouseContainer, type StartedClickHouseContainer } from '@testcontainers/clickhouse';
import { KafkaContainer, type StartedKafkaContainer } from '@testcontainers/kafka';
import { getContainerRuntimeClient } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorageClient, migrate, type StorageClient } from '../src/clickhouse/index.js';
import { type KafkaLoaderHandle, startKafkaLoader } from '../src/loader/kafka-loader.js';
import { createKafkaSink } from '../src/queue/kafka-sink.js';
import { eventLine } from './helpers/mock-kafka.js';

// The Kafka path against real Kafka and ClickHouse server images, when a Docker engine is
// reachable (testcontainers finds it: DOCKER_HOST, the socket, Docker Desktop, Podman).
// Without one this suite skips and says so; the same path is covered against the
// librdkafka mock broker in test/kafka-*.test.ts.
const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function dockerEngine(): Promise<string | undefined> {
  try {
    const client = await getContainerRuntimeClient();
    return client.info.containerRuntime.host;
  } catch {
    return undefined;
  }
}
const engine = await dockerEngine();
const skip = !engine;
if (skip) {
  console.log(
    'containers.test.ts SKIPPED: no Docker engine reachable (testcontainers found none). The Kafka path is covered against the librdkafka mock broker in test/kafka-*.test.ts.',
  );
}

describe.skipIf(skip)('real Kafka + ClickHouse server (testcontainers)', () => {
  let kafka: StartedKafkaContainer;
  let clickhouse: StartedClickHouseContainer;
  let storage: StorageClient;
  let consumer: KafkaLoaderHandle;
  let brokers: string;

  beforeAll(async () => {
    const k = new KafkaContainer('confluentinc/cp-kafka:7.7.1');
    [kafka, clickhouse] = await Promise.all([
      k.withKraft().start(),
      new ClickHouseContainer('clickhouse/clickhouse-server:24.8').start(),
    ]);
    brokers = `${kafka.getHost()}:${kafka.getMappedPort(9093)}`;
    storage = await createStorageClient({
      DATA_DIR: join(ROOT, '.tmp', 'unused'),
      CLICKHOUSE_URL: clickhouse.getHttpUrl(),
      CLICKHOUSE_USER: clickhouse.getUsername(),
      CLICKHOUSE_PASSWORD: clickhouse.getPassword(),
      CLICKHOUSE_DATABASE: 'default',
    });
    await migrate(storage.admin, join(ROOT, 'clickhouse'));
  }, 300_000);

  afterAll(async () => {
    await consumer?.stop();
    await storage?.close();
    await Promise.all([kafka?.stop(), clickhouse?.stop()]);
  });

  it('events go through Kafka into ClickHouse exactly once, and committed waits for them', async () => {
    const config = {
      KAFKA_BROKERS: brokers,
      KAFKA_CLIENT_ID: 'containers-test',
      KAFKA_TOPIC: 'feature_events',
      KAFKA_QUARANTINE_TOPIC: 'feature_events_quarantine',
      KAFKA_GROUP_ID: 'containers-loader',
      MAX_PENDING_BYTES: 64 << 20,
      BATCH_MAX_ROWS: 1000,
      BATCH_MAX_WAIT_MS: 200,
    };
    const { Kafka } = await import('kafkajs');
    const admin = new Kafka({ clientId: 'setup', brokers: [brokers] }).admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: config.KAFKA_TOPIC, numPartitions: 3 },
        { topic: config.KAFKA_QUARANTINE_TOPIC, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
    await admin.disconnect();
    consumer = await startKafkaLoader({ store: storage.store, config });
    // A real broker serves the idempotent producer (the mock cannot).
    const sink = await createKafkaSink(config, undefined, { idempotent: true });
    const lines = Array.from({ length: 2000 }, (_, i) => eventLine(`tc${i}`, `user${i % 31}`));
    const { committed } = await sink.append({ events: lines, quarantine: [] });
    await committed;
    const rs = await storage.admin.query({
      query:
        "SELECT count() AS n, uniqExact(event_id) AS u FROM feature_events WHERE startsWith(event_id, 'tc')",
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ n: '2000', u: '2000' }]);
    await sink.close();
  }, 120_000);
});
