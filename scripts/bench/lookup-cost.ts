/**
 * Where one point lookup's time goes (issue 15), in this process on a COPY of a read-path
 * data dir (chDB locks a data dir: never point it at one a service has open). The same
 * rendered pipe SQL, with the route's SETTINGS and FORMAT, runs alternately
 *   native  on chDB's session (queryBindAsync), nothing between;
 *   client  through @clickhouse/client over chDB's connection adapter, read as the route reads;
 * and prints, per pipe, the wall time of each beside chDB's own elapsed and rows read, the
 * parts and granules the lookup selects (EXPLAIN indexes = 1), and chDB's CPU time, parts,
 * marks and bytes decompressed per query (its ProfileEvents counters: CPU is steadier than
 * wall time on a shared machine). Pipes render without TB_SECRET/retention variables, as
 * with RAW_RETENTION_DAYS=0. --settings adds query settings to both (e.g. max_threads=1).
 * `events` runs the bench's user pages, `events:feature` its feature pages.
 *
 *   node --import tsx scripts/bench/lookup-cost.ts --dir /tmp/c33/r10m --calls 200
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient } from '@clickhouse/client';
import { Session } from 'chdb';
import { createChdbConnection } from 'chdb/connection';
import { readText } from '../../src/clickhouse/read-text.js';
import { loadPipes, renderPipe } from '../../src/pipes/index.js';
import { makeGenerator } from '../generate-events.js';
import { analyticsParams } from './analytics.js';
import { FLOOR_PIPE, pipesWithFloor } from './floor.js';
import { log, ROOT, stats } from './lib.js';
import { originalParams } from './params.js';

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string' },
    calls: { type: 'string', default: '200' },
    pipes: { type: 'string', default: `${FLOOR_PIPE},user_feature_usage,user_recent_features,events` },
    settings: { type: 'string', default: '' },
  },
});
if (!args.dir) throw new Error('--dir: a copy of a read-path data dir');
const CALLS = Number(args.calls);
const meta = JSON.parse(readFileSync(join(args.dir, 'read-path-meta.json'), 'utf8')) as { endMs: number };
const USERS = 100_000;

type Params = Record<string, string>;
function paramsFor(pipe: string): (i: number) => Params {
  const gen = makeGenerator({ seed: 99, plannedRows: 1, endMs: meta.endMs, users: USERS });
  if (pipe === FLOOR_PIPE) return () => ({});
  if (pipe === 'user_feature_usage') return (i) => originalParams(pipe, gen, meta.endMs, i);
  // events alternates a user and a feature page in the bench; a point lookup is the user's,
  // and events:feature takes the bench's feature pages instead.
  if (pipe === 'events') return (i) => analyticsParams(pipe, gen, meta.endMs, i * 2 + 1);
  if (pipe === 'events:feature') return (i) => analyticsParams('events', gen, meta.endMs, i * 2);
  return (i) => analyticsParams(pipe as Parameters<typeof analyticsParams>[0], gen, meta.endMs, i);
}

/** chDB's process-wide ProfileEvents counters (chDB has no query_log): differences give per-query costs. */
async function counters(session: Session): Promise<Record<string, number>> {
  const r = await session.queryAsync('SELECT event, value FROM system.events', { format: 'JSONEachRow' });
  const rows = r
    .text()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; value: string });
  return Object.fromEntries(rows.map((x) => [x.event, Number(x.value)]));
}

async function main() {
  const path = resolve(args.dir as string, 'clickhouse');
  const connection = createChdbConnection({ path });
  const client = createClient({ connection } as Parameters<typeof createClient>[0]);
  const { pipes } = loadPipes(pipesWithFloor(ROOT));
  const extra = args.settings ? `, ${args.settings}` : '';
  const settings = `max_execution_time = 10, output_format_json_quote_64bit_integers = 0${extra}`;
  const rendered = (pipe: string, p: Params) => {
    const spec = pipes.get(pipe.split(':')[0] as string);
    if (!spec) throw new Error(`no pipe ${pipe}`);
    const r = renderPipe(spec, new Map(Object.entries(p).map(([k, v]) => [k, [v]])));
    return { sql: `${r.sql}\nSETTINGS ${settings}\nFORMAT JSON`, params: r.params };
  };
  // A second session on the same path: chDB runs several side by side in one process.
  const session = new Session(path);
  for (const pipe of (args.pipes as string).split(',')) {
    const next = paramsFor(pipe);
    const wall = { native: [] as number[], client: [] as number[] };
    const elapsed: number[] = [];
    const rowsRead: number[] = [];
    for (let i = 0; i < 3; i++) {
      const q = rendered(pipe, next(i));
      await client.exec({ query: q.sql, query_params: q.params }).then((r) => readText(r.stream));
    }
    const before = await counters(session);
    for (let i = 0; i < CALLS; i++) {
      const q = rendered(pipe, next(100 + i));
      // Alternate which goes first: each pays the other's warm-up alike.
      for (const side of i % 2 ? (['native', 'client'] as const) : (['client', 'native'] as const)) {
        const t = performance.now();
        let body: string;
        if (side === 'native') body = (await session.queryBindAsync(q.sql, q.params)).text();
        else body = await readText((await client.exec({ query: q.sql, query_params: q.params })).stream);
        wall[side].push(performance.now() - t);
        if (side === 'native') {
          const st = (JSON.parse(body) as { statistics: { elapsed: number; rows_read: number } }).statistics;
          elapsed.push(st.elapsed * 1000);
          rowsRead.push(st.rows_read);
        }
      }
    }
    const after = await counters(session);
    // Both sides ran each query: per query is the difference over 2 x CALLS.
    const per = (e: string) => Math.round(((after[e] ?? 0) - (before[e] ?? 0)) / (2 * CALLS));
    const q = rendered(pipe, next(100));
    const plan = await session.queryBindAsync(
      `EXPLAIN indexes = 1 ${q.sql.replace(/\nFORMAT JSON$/, '')}`,
      q.params,
    );
    const granules = [...plan.text().matchAll(/(Parts|Granules): (\d+\/\d+)/g)].map((m) => `${m[1]} ${m[2]}`);
    const s = (xs: number[]) => stats(xs, 0, 1);
    log(
      `${pipe}: native p50 ${s(wall.native).p50} p95 ${s(wall.native).p95} ms; client p50 ${s(wall.client).p50} p95 ${s(wall.client).p95} ms; chDB elapsed p50 ${s(elapsed).p50} ms; rows read p50 ${s(rowsRead).p50}; ${granules.join(', ')}; per query: chDB CPU ${per('OSCPUVirtualTimeMicroseconds')} us, ${per('SelectedParts')} parts, ${per('SelectedMarks')} marks, ${per('CompressedReadBufferBytes')} bytes decompressed`,
    );
  }
  session.close();
  await client.close();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
