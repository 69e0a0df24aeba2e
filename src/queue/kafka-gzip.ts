import { promisify } from 'node:util';
import { gzip, unzip } from 'node:zlib';
import kafkajs, { CompressionTypes } from 'kafkajs';

// Not a named export Node's CommonJS interop can see; the package object has it.
const { CompressionCodecs } = kafkajs;

/**
 * The gzip level our producer compresses at. kafkajs' own GZIP codec uses zlib's default (6);
 * on packed event NDJSON (measured on this 2-core machine, 20k-row blocks) level 6 cost 6.4 µs
 * of CPU per row to compress and 2.3 to decompress, level 1 1.4 and 0.9, for 9.3x instead of
 * 11.2x smaller: at 50k rows/s that is a quarter of a core given back to ingest and inserts.
 * Level 1 output is ordinary gzip: any consumer (a broker, ClickHouse's Kafka engine) reads it.
 */
export const KAFKA_GZIP_LEVEL = 1;

const compress = promisify(gzip);
const decompress = promisify(unzip);

/**
 * Replaces kafkajs' GZIP codec, process-wide, by one at KAFKA_GZIP_LEVEL. kafkajs looks codecs
 * up in this table at every produce and fetch (it is how its docs plug in Snappy or LZ4), so
 * calling it once before the first produce is enough; calling it again changes nothing.
 */
export function useFastGzip(): void {
  CompressionCodecs[CompressionTypes.GZIP] = () => codec;
}

// zlib's one-shot async calls hand their output back in chunkSize pieces (16 KiB by default),
// each piece a thread-pool round trip and a callback on the event loop. A record batch of ours
// is at most ~900 KiB before compression (PACKING.maxBytesPerSend), so with these sizes it
// goes in one piece: measured on 900 KiB of event rows at level 1, the main thread's share of
// compressing plus decompressing fell from ~1.0 to ~0.3 µs per row (docs/performance.md,
// "Kafka mode: CPU per row"). Bigger batches still work, in more pieces.
const COMPRESS_CHUNK = 256 << 10;
const DECOMPRESS_CHUNK = 1 << 20;

const codec = {
  compress: (encoder: { buffer: Buffer }) =>
    compress(encoder.buffer, { level: KAFKA_GZIP_LEVEL, chunkSize: COMPRESS_CHUNK }),
  decompress: (buffer: Buffer) => decompress(buffer, { chunkSize: DECOMPRESS_CHUNK }),
};
