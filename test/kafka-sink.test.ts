import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOfMessage } from '../src/queue/kafka-messages.js';
import { createKafkaSink, type KafkaSinkConfig, userIdKey } from '../src/queue/kafka-sink.js';
import { BackpressureError } from '../src/queue/types.js';
import {
  eventLine,
  type MockKafka,
  mockTopics,
  quarantineLine,
  startMockKafka,
  waitFor,
} from './helpers/mock-kafka.js';

// The producer side alone, against librdkafka's mock broker: what the api writes is on the
// topics, keyed by user_id, and a broker that stops acknowledging turns into backpressure.
let mock: MockKafka;
beforeAll(async () => {
  mock = await startMockKafka({ partitions: 3, topics: [] });
});
afterAll(async () => {
  await mock?.stop();
});

const topics = (name: string): Promise<KafkaSinkConfig> => mockTopics(mock, name);

/** Reads every row of a topic (unpacking packed messages) with a throwaway consumer group. */
async function readTopic(topic: string, expected: number) {
  const kafka = new Kafka({
    clientId: 'reader',
    brokers: mock.brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  const got: Array<{ value: string; partition: number; packed: number }> = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      const rows = rowsOfMessage(message);
      for (const value of rows) got.push({ value, partition, packed: rows.length });
    },
  });
  await waitFor(() => got.length >= expected, `${expected} rows on ${topic}`);
  await consumer.disconnect();
  return got;
}

describe('userIdKey', () => {
  it('takes the top-level user_id, not one inside a nested JSON string', () => {
    const nested = JSON.stringify({ metadata: JSON.stringify({ user_id: 'inner' }), user_id: 'outer' });
    expect(userIdKey(nested)).toBe('outer');
    expect(userIdKey(eventLine('e1', 'u"q\\x'))).toBe('u"q\\x');
    expect(userIdKey('{"event_id":"x"}')).toBeNull();
    expect(userIdKey('not json')).toBeNull();
  });
});

describe('kafka sink', () => {
  it('puts events on the topic keyed by user_id and quarantined rows on their topic', async () => {
    const config = await topics('visible');
    const sink = await createKafkaSink(config, undefined, { idempotent: false });
    const lines = Array.from({ length: 200 }, (_, i) => eventLine(`v${i}`, `user${i % 10}`));
    // Concurrent requests share produce requests; each still learns its own fate.
    await Promise.all([
      sink.append({ events: lines.slice(0, 120), quarantine: [quarantineLine('q1')] }),
      sink.append({ events: lines.slice(120), quarantine: [quarantineLine('q2')] }),
    ]);
    await sink.close();

    const events = await readTopic(config.KAFKA_TOPIC, 200);
    expect(events.map((m) => m.value).sort()).toEqual([...lines].sort());
    // Many rows to a message, each in the partition Kafka's default partitioner gives its
    // user_id as a key: the partition a one-row message from any other producer would take.
    expect(Math.max(...events.map((m) => m.packed))).toBeGreaterThan(1);
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = [0, 1, 2].map((partitionId) => ({
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
      partitionErrorCode: 0,
    }));
    for (const m of events) {
      const key = JSON.parse(m.value).user_id as string;
      expect(m.partition).toBe(
        partitioner({ topic: config.KAFKA_TOPIC, partitionMetadata, message: { key, value: null } }),
      );
    }
    // Same user, same partition: one user's events stay in order.
    const partitionOfUser = new Map<string, Set<number>>();
    for (const m of events) {
      const user = JSON.parse(m.value).user_id as string;
      partitionOfUser.set(user, (partitionOfUser.get(user) ?? new Set()).add(m.partition));
    }
    for (const parts of partitionOfUser.values()) expect(parts.size).toBe(1);
    expect(new Set(events.map((m) => m.partition)).size).toBeGreaterThan(1);

    const quarantined = await readTopic(config.KAFKA_QUARANTINE_TOPIC, 2);
    expect(quarantined.map((m) => JSON.parse(m.value).event_id).sort()).toEqual(['q1', 'q2']);
  });

  it('refuses new work while the broker does not acknowledge, and recovers when it does', async () => {
    const config = await topics('down');
    const sink = await createKafkaSink(config, undefined, { idempotent: false, maxInFlightBytes: 1000 });
    try {
      await sink.append({ events: [eventLine('warm')], quarantine: [] }); // metadata and connections ready
      expect(() => sink.checkCapacity(100)).not.toThrow();
      await mock.inject('down 1');
      let acked = false;
      const pending = sink.append({
        events: Array.from({ length: 10 }, (_, i) => eventLine(`d${i}`)),
        quarantine: [],
      });
      pending.then(() => {
        acked = true;
      });
      expect(() => sink.checkCapacity(100)).toThrow(BackpressureError);
      await new Promise((r) => setTimeout(r, 300));
      expect(acked).toBe(false);
      await mock.inject('up 1');
      await pending;
      expect(() => sink.checkCapacity(100)).not.toThrow();
      const events = await readTopic(config.KAFKA_TOPIC, 11);
      expect(events.length).toBe(11);
    } finally {
      await mock.inject('up 1');
      await sink.close();
    }
  });

  it('refuses new work while the consumer group is more than KAFKA_MAX_LAG_ROWS behind, and takes it again once it caught up', async () => {
    const config = await topics('lag');
    const sink = await createKafkaSink(config, undefined, {
      idempotent: false,
      maxLagRows: 250,
      lagPollMs: 50,
    });
    let stopMember = async () => {};
    try {
      // 200 rows, nobody consuming: under the bound.
      await sink.append({
        events: Array.from({ length: 200 }, (_, i) => eventLine(`l${i}`, `u${i % 7}`)),
        quarantine: [],
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(() => sink.checkCapacity(100)).not.toThrow();
      // 200 more: 400 rows behind, over it.
      await sink.append({
        events: Array.from({ length: 200 }, (_, i) => eventLine(`m${i}`, `u${i % 7}`)),
        quarantine: [],
      });
      await waitFor(() => {
        try {
          sink.checkCapacity(100);
          return false;
        } catch (err) {
          return err instanceof BackpressureError && /rows behind/.test(err.message);
        }
      }, 'the lag bound to refuse');
      // A member of the group reads and commits everything (as the loader does after storing).
      const member = new Kafka({
        clientId: 'lag-c',
        brokers: mock.brokers.split(','),
        logLevel: logLevel.NOTHING,
      }).consumer({
        groupId: config.KAFKA_GROUP_ID,
        maxWaitTimeInMs: 50,
      });
      await member.connect();
      await member.subscribe({ topics: [config.KAFKA_TOPIC], fromBeginning: true });
      await member.run({ autoCommitInterval: 50, eachMessage: async () => {} });
      stopMember = () => member.disconnect();
      await waitFor(() => {
        try {
          sink.checkCapacity(100);
          return true;
        } catch {
          return false;
        }
      }, 'the bound to let ingest in again');
    } finally {
      await stopMember();
      await sink.close();
    }
  });

  it('measures produce throughput through the mock broker', async () => {
    const config = await topics('speed');
    const sink = await createKafkaSink(config, undefined, { idempotent: false });
    const lines = Array.from({ length: 50_000 }, (_, i) => eventLine(`s${i}`, `user${i % 1000}`));
    const started = performance.now();
    const requests = [];
    for (let i = 0; i < lines.length; i += 500)
      requests.push(sink.append({ events: lines.slice(i, i + 500), quarantine: [] }));
    await Promise.all(requests);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `kafka sink: ${lines.length} events in ${seconds.toFixed(2)} s = ${Math.round(lines.length / seconds)} events/s (gzip, acks=all, 100 concurrent requests of 500)`,
    );
    await sink.close();
    expect(requests.length).toBe(100);
  });
});
