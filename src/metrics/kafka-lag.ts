import type { Admin } from 'kafkajs';
import type { PartitionLag } from './registry.js';

/**
 * The consumer group's lag per partition of the events and quarantine topics: the log end
 * offset minus the group's committed offset. The loader commits only after a batch is in
 * ClickHouse, so this is what Kafka holds that ClickHouse does not yet have. A partition the
 * group never committed counts from the log's start (a new group reads from the beginning).
 */
export function kafkaLagReader(
  admin: Admin,
  groupId: string,
  topics: string[],
): () => Promise<PartitionLag[]> {
  let connected: Promise<void> | undefined;
  return async () => {
    connected ??= admin.connect().catch((err: unknown) => {
      connected = undefined;
      throw err;
    });
    await connected;
    const committed = new Map<string, number>();
    for (const t of await admin.fetchOffsets({ groupId, topics }))
      for (const p of t.partitions) committed.set(`${t.topic}:${p.partition}`, Number(p.offset));
    const out: PartitionLag[] = [];
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        const done = Math.max(committed.get(`${topic}:${p.partition}`) ?? -1, Number(p.low));
        out.push({ topic, partition: p.partition, lag: Math.max(0, Number(p.high) - done) });
      }
    }
    return out;
  };
}
