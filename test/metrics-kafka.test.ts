import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaLagReader } from '../src/metrics/kafka-lag.js';
import { expectCountersMoveByLoad } from './helpers/metrics-load.js';
import { type MockKafka, mockServiceEnv, startMockKafka, waitFor } from './helpers/mock-kafka.js';
import { scrape, sumOf } from './helpers/prometheus.js';
import { freePort, type ServiceProcess, startServiceProcess } from './helpers/service.js';

// The service in Kafka mode (ROLE=all) against librdkafka's mock broker.
let kafka: MockKafka;
let svc: ServiceProcess;
let metricsPort: number;

beforeAll(async () => {
  kafka = await startMockKafka({ partitions: 3 });
  metricsPort = await freePort();
  svc = await startServiceProcess({
    env: {
      ...mockServiceEnv(kafka),
      METRICS_PORT: String(metricsPort),
      METRICS_CACHE_SECONDS: '1',
    },
  });
});
afterAll(async () => {
  expect(await svc?.stop()).toBe(0);
  await kafka?.stop();
});

const listener = () => `http://127.0.0.1:${metricsPort}/metrics`;

describe('metrics of the running service (Kafka)', () => {
  it('move by exactly the rows sent and quarantined', async () => {
    await expectCountersMoveByLoad(svc, listener(), 'mk');
    const samples = await scrape(listener());
    expect(
      samples.some((s) => s.name === 'feature_events_queue_pending_bytes' && s.labels.queue === 'kafka'),
    ).toBe(true);
    expect(sumOf(samples, 'feature_events_queue_pending_bytes', { queue: 'kafka' })).toBe(0);
  });

  it('report the consumer lag of every partition, back to 0 once the rows are stored', async () => {
    const lag =
      (await waitFor(async () => {
        const samples = (await scrape(listener())).filter(
          (s) => s.name === 'feature_events_kafka_consumer_lag_messages',
        );
        // Three event partitions and three quarantine partitions, all consumed.
        return samples.length === 6 && samples.every((s) => s.value === 0) ? samples : undefined;
      }, 'the lag of every partition to be 0')) ?? [];
    expect(new Set(lag.map((s) => s.labels.topic))).toEqual(
      new Set(['feature_events', 'feature_events_quarantine']),
    );
    expect(lag.map((s) => s.labels.partition).sort()).toEqual(['0', '0', '1', '1', '2', '2']);
  });

  it('count every message of a partition the group never committed as lag (the loader test above shows the committed side)', async () => {
    await kafka.inject('topic lag_test 2');
    const client = new Kafka({
      clientId: 'lag-test',
      brokers: kafka.brokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    const producer = client.producer();
    const admin = client.admin();
    await producer.connect();
    try {
      await producer.send({
        topic: 'lag_test',
        messages: [0, 0, 0, 1, 1].map((partition, i) => ({ partition, value: `m${i}` })),
      });
      const read = kafkaLagReader(admin, 'lag-test-group', ['lag_test']);
      // Nothing committed: everything is behind, per partition.
      expect(new Map((await read()).map((l) => [l.partition, l.lag]))).toEqual(
        new Map([
          [0, 3],
          [1, 2],
        ]),
      );
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});
