/**
 * What zlib's output piece size costs the event loop (`node --import tsx scripts/bench/gzip-chunks.ts`):
 * 900 KiB of event rows (a produce request's worth, PACKING.maxBytesPerSend) compressed at
 * KAFKA_GZIP_LEVEL and decompressed, 200 times per piece size, with zlib's one-shot async
 * calls as the Kafka codec makes them (src/queue/kafka-gzip.ts). Reports CPU per row of the
 * main thread (/proc/self/task/<pid>/stat) and of the whole process.
 */
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { gzip, unzip } from 'node:zlib';
import { KAFKA_GZIP_LEVEL } from '../../src/queue/kafka-gzip.js';
import { makeGenerator } from '../generate-events.js';

const compress = promisify(gzip);
const decompress = promisify(unzip);
const mainThreadMs = () => {
  const s = readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
const processMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

// The bench's rows, as many as fit in one produce request (900 KiB before compression).
const all = makeGenerator({ seed: 7, plannedRows: 10_000, endMs: Date.now(), users: 100_000 })
  .ndjson(10_000)
  .split('\n');
const lines: string[] = [];
for (let bytes = 0, i = 0; all[i] && bytes + (all[i] as string).length < 900 << 10; i++) {
  lines.push(all[i] as string);
  bytes += (all[i] as string).length + 1;
}
const payload = Buffer.from(lines.join('\n'));
const packed = await compress(payload, { level: KAFKA_GZIP_LEVEL });
console.log(`${lines.length} rows, ${payload.length} bytes, ${packed.length} gzipped`);
const N = 200;
for (const chunkSize of [16 << 10, 64 << 10, 256 << 10, 1 << 20]) {
  for (let round = 0; round < 2; round++) {
    const [m0, p0] = [mainThreadMs(), processMs()];
    for (let i = 0; i < N; i++) {
      await compress(payload, { level: KAFKA_GZIP_LEVEL, chunkSize });
      await decompress(packed, { chunkSize });
    }
    const perRow = (ms: number) => ((ms * 1000) / (N * lines.length)).toFixed(2);
    console.log(
      `pieces of ${chunkSize >> 10} KiB: main thread ${perRow(mainThreadMs() - m0)} µs/row, process ${perRow(processMs() - p0)} µs/row`,
    );
  }
}
