import { gunzipSync, gzipSync } from 'node:zlib';
import kafkajs, { CompressionTypes } from 'kafkajs';

// Not a named export Node's CommonJS interop can see; the package object has it.
const { CompressionCodecs } = kafkajs;

import { describe, expect, it } from 'vitest';
import { KAFKA_GZIP_LEVEL, useFastGzip } from './kafka-gzip.js';

describe('useFastGzip', () => {
  const rows = Buffer.from(
    Array.from({ length: 500 }, (_, i) => JSON.stringify({ event_id: `e${i}`, user_id: `u${i % 7}` })).join(
      '\n',
    ),
  );

  it("makes kafkajs' GZIP codec compress at KAFKA_GZIP_LEVEL, into plain gzip", async () => {
    useFastGzip();
    const codec = CompressionCodecs[CompressionTypes.GZIP]();
    const out: Buffer = await codec.compress({ buffer: rows });
    expect(out.equals(gzipSync(rows, { level: KAFKA_GZIP_LEVEL }))).toBe(true);
    expect(gunzipSync(out).equals(rows)).toBe(true);
  });

  it('round-trips a record batch bigger than its output pieces (several MiB)', async () => {
    useFastGzip();
    const codec = CompressionCodecs[CompressionTypes.GZIP]();
    const big = Buffer.from(
      Array.from({ length: 60_000 }, (_, i) => JSON.stringify({ event_id: `e${i}`, n: Math.sin(i) })).join(
        '\n',
      ),
    );
    const out: Buffer = await codec.compress({ buffer: big });
    expect(out.equals(gzipSync(big, { level: KAFKA_GZIP_LEVEL }))).toBe(true);
    expect((await codec.decompress(out)).equals(big)).toBe(true);
  });

  it('decompresses gzip of any level (messages from other producers)', async () => {
    useFastGzip();
    const codec = CompressionCodecs[CompressionTypes.GZIP]();
    const out: Buffer = await codec.decompress(gzipSync(rows, { level: 9 }));
    expect(out.equals(rows)).toBe(true);
  });
});
