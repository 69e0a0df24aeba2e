import type { Admin } from 'kafkajs';
import { type PartitionLag, readPartitionLag } from '../queue/kafka-lag.js';

/** The lag metric's reader: readPartitionLag on an admin client connected on first use. */
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
    return readPartitionLag(admin, groupId, topics);
  };
}
