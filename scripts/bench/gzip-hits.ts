/**
 * What gzip costs cached answers: the same cached pipe questions at 32 clients, with and
 * without Accept-Encoding: gzip (as fetch-based clients such as Tinybird's SDKs send it),
 * alternated over rounds on one service.
 *   node --import tsx scripts/bench/gzip-hits.ts [--events 300000] [--rounds 3] [--seconds 8] [--root DIR]
 * --root runs another checkout's service (e.g. `git archive` of an older commit), for a before/after.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeGenerator } from '../generate-events.js';
import { postBatch } from './ingest.js';
import { closedLoop, log, median, request, startService, waitForCount } from './lib.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '300000' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '8' },
    root: { type: 'string' },
  },
});
const EVENTS = Number(args.events);
const QUESTIONS = [
  'feature_usage_timeline.json?interval=30%20day&granularity=day',
  'feature_usage_summary.json',
  'top_features.json',
];

const dir = mkdtempSync(join(tmpdir(), 'gzip-hits-'));
const svc = await startService(dir, {}, [], args.root);
try {
  const gen = makeGenerator({ seed: 3, plannedRows: EVENTS, endMs: Date.now() - 60_000 });
  for (let done = 0; done < EVENTS; done += 25_000)
    await postBatch(svc, gen.ndjson(Math.min(25_000, EVENTS - done)));
  await waitForCount(svc, EVENTS, 300_000);
  for (const path of QUESTIONS) {
    const plain = await request(svc.baseUrl, 'GET', `/v0/pipes/${path}`, svc.token);
    log(`${path}: ${plain.status}, ${plain.body.length} bytes`);
    const rps: Record<string, number[]> = { identity: [], gzip: [] };
    for (let round = 0; round < Number(args.rounds); round++) {
      for (const enc of round % 2 ? ['gzip', 'identity'] : ['identity', 'gzip']) {
        const headers: Record<string, string> = enc === 'gzip' ? { 'Accept-Encoding': 'gzip' } : {};
        const r = await closedLoop(32, Number(args.seconds) * 1000, 1e9, async () => {
          const res = await request(
            svc.baseUrl,
            'GET',
            `/v0/pipes/${path}`,
            svc.token,
            undefined,
            30_000,
            headers,
          );
          return res.status === 200;
        });
        rps[enc]?.push(r.rps);
      }
    }
    const [a, b] = [median(rps.identity ?? []), median(rps.gzip ?? [])];
    log(`${path}: cached at 32 clients, identity ${a} req/s, gzip ${b} req/s (ratio ${(b / a).toFixed(2)})`);
  }
} finally {
  await svc.stop();
  rmSync(dir, { recursive: true, force: true });
}
