/**
 * One large bulk append (POST /v0/datasources?mode=append, NDJSON, as `tb datasource append`
 * sends a file), and what it costs the rest of the service while it runs:
 *
 *   node --import tsx scripts/bench/bulk-upload.ts [--mb 95] [--rounds 3] [--root DIR]
 *
 * Reported per round: the upload's time until its 200 (rows stored), the process's peak RSS
 * (VmHWM), and the longest wait of a GET /v0/health sent every 50 ms during the upload: the
 * time other callers are kept waiting. --root runs another checkout's service (e.g. a
 * `git archive` of the commit before a change) in alternation with this one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeGenerator } from '../generate-events.js';
import { log, median, peakRssMb, request, sleep, startService } from './lib.js';

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '95' },
    rounds: { type: 'string', default: '3' },
    root: { type: 'string' },
  },
});

const target = Number(args.mb) * 1024 * 1024;
const gen = makeGenerator({ seed: 11, plannedRows: 400_000, endMs: Date.now() - 60_000 });
const parts: Buffer[] = [];
let size = 0;
while (size < target) {
  const part = Buffer.from(`${gen.ndjson(5_000)}\n`);
  parts.push(part);
  size += part.length;
}
const file = Buffer.concat(parts);
const rows = file
  .toString('latin1')
  .split('\n')
  .filter((l) => l !== '').length;
log(`file: ${(file.length / 1048576).toFixed(1)} MiB, ${rows} rows`);

const sides: Array<[string, string | undefined]> = [['this', undefined]];
if (args.root) sides.push(['root', args.root]);
const results: Record<string, { seconds: number[]; hwm: number[]; stall: number[] }> = {};
for (let round = 0; round < Number(args.rounds); round++) {
  for (const [name, root] of round % 2 ? [...sides].reverse() : sides) {
    const dir = mkdtempSync(join(tmpdir(), 'bulk-upload-'));
    const svc = await startService(dir, {}, [], root);
    try {
      let stall = 0;
      let uploading = true;
      const pinger = (async () => {
        while (uploading) {
          const t = performance.now();
          await request(svc.baseUrl, 'GET', '/v0/health', svc.token, undefined, 120_000);
          stall = Math.max(stall, performance.now() - t);
          await sleep(50);
        }
      })();
      const t0 = performance.now();
      const res = await fetch(`${svc.baseUrl}/v0/datasources?name=feature_events&mode=append&format=ndjson`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${svc.token}`, 'Content-Type': 'application/x-ndjson' },
        body: file,
      });
      const reply = (await res.json()) as { successful_rows?: number };
      const seconds = (performance.now() - t0) / 1000;
      uploading = false;
      await pinger;
      if (res.status !== 200 || reply.successful_rows !== rows)
        throw new Error(`${name}: ${res.status} ${JSON.stringify(reply).slice(0, 300)}`);
      const hwm = peakRssMb(svc.proc.pid);
      results[name] ??= { seconds: [], hwm: [], stall: [] };
      const r = results[name];
      r.seconds.push(seconds);
      r.hwm.push(hwm);
      r.stall.push(stall);
      log(
        `${name} round ${round + 1}: ${seconds.toFixed(1)} s, VmHWM ${hwm} MiB, longest health wait ${Math.round(stall)} ms`,
      );
    } finally {
      await svc.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
for (const [name, r] of Object.entries(results))
  log(
    `${name} (median of ${r.seconds.length}): ${median(r.seconds).toFixed(1)} s, VmHWM ${median(r.hwm)} MiB, longest health wait ${Math.round(median(r.stall))} ms`,
  );
