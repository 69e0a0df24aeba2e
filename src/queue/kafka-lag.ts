import type { Admin } from 'kafkajs';

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Messages past the group's committed offset. */
  lag: number;
}

/**
 * The consumer group's lag per partition of `topics`: the log end offset minus the group's
 * committed offset. The loader commits only after a batch is in ClickHouse, so this is what
 * Kafka holds that ClickHouse does not yet have. A partition the group never committed (-1)
 * counts from the log's start (a new group reads from the beginning). One reading for both
 * the ingest bound (KAFKA_MAX_LAG_ROWS, kafka-sink.ts) and the lag metric.
 */
export async function readPartitionLag(
  admin: Admin,
  groupId: string,
  topics: string[],
): Promise<PartitionLag[]> {
  const [ends, committed] = await Promise.all([
    Promise.all(topics.map(async (topic) => ({ topic, partitions: await admin.fetchTopicOffsets(topic) }))),
    admin.fetchOffsets({ groupId, topics }),
  ]);
  const done = new Map<string, number>();
  for (const t of committed)
    for (const p of t.partitions) done.set(`${t.topic}:${p.partition}`, Number(p.offset));
  return ends.flatMap(({ topic, partitions }) =>
    partitions.map((p) => ({
      topic,
      partition: p.partition,
      lag: Math.max(0, Number(p.high) - Math.max(done.get(`${topic}:${p.partition}`) ?? -1, Number(p.low))),
    })),
  );
}
