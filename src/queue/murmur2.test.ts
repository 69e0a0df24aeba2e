import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { partitionForKey } from './murmur2.js';

// kafkajs' own partitioner, the reference: keys must land where any Kafka client puts them.
const kafkajs = Partitioners.DefaultPartitioner();
function reference(key: string, count: number): number {
  const partitionMetadata = Array.from({ length: count }, (_, i) => ({
    partitionId: i,
    leader: 0,
    replicas: [0],
    isr: [0],
    partitionErrorCode: 0,
  }));
  return kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } });
}

describe('partitionForKey', () => {
  it("picks kafkajs' (and the Java client's) partition for any key", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.uuid()),
        fc.integer({ min: 1, max: 64 }),
        (key, n) => {
          expect(partitionForKey(key, n)).toBe(reference(key, n));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('handles keys longer than its scratch buffer', () => {
    const key = 'ü'.repeat(1000);
    expect(partitionForKey(key, 12)).toBe(reference(key, 12));
    expect(partitionForKey('u1', 12)).toBe(reference('u1', 12));
  });
});
