/**
 * The ceiling: the same rows inserted straight into chDB through @clickhouse/client, without
 * our HTTP, validation, queue or batcher. Run as its own process (chDB binds one data
 * directory per process):
 *
 *   node --import tsx scripts/bench/raw-clickhouse.ts '<json options>'
 *
 * Prints one JSON line on stdout: {rows, stored, seconds, eps, bytes_on_disk}.
 * views=false creates only feature_events (clickhouse/001); views=true applies every
 * clickhouse/*.sql file, so the materialized rollups are maintained too.
 * The full bench calls measureRawClickHouse(), which runs this file so.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient } from '@clickhouse/client';
import { readMigrations } from '../../src/clickhouse/migrate.js';
import { makeGenerator } from '../generate-events.js';
import { ROOT } from './lib.js';
import type { Plan } from './plan.js';

export interface RawRun {
  rows: number;
  stored: number;
  seconds: number;
  eps: number;
  bytes_on_disk: number;
}

/** The plan's first-stage rows (rawRows of them) inserted raw, in a child process and a throwaway data dir. */
export function measureRawClickHouse(views: boolean, plan: Plan, tmp: (prefix: string) => string): RawRun {
  const dir = tmp('fe-bench-raw-');
  const { rawRows, users } = plan.sizes;
  const stages = [{ seed: 1000, rows: rawRows, endMs: plan.endMs, users }];
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'scripts/bench/raw-clickhouse.ts'),
      JSON.stringify({ dataDir: dir, views, batchRows: 50_000, stages }),
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  rmSync(dir, { recursive: true, force: true });
  return JSON.parse(out.trim().split('\n').pop() as string);
}

interface Options {
  dataDir: string;
  views: boolean;
  batchRows: number;
  /** Stages: the same generator options the bench used, so the rows are identical. */
  stages: Array<{ seed: number; rows: number; endMs: number; users: number }>;
}

async function main() {
  const o = JSON.parse(process.argv[2] ?? '{}') as Options;
  // Build every batch before timing: generation is not what we measure.
  const batches: string[] = [];
  let rows = 0;
  for (const st of o.stages) {
    const gen = makeGenerator({ seed: st.seed, plannedRows: st.rows, endMs: st.endMs, users: st.users });
    for (let done = 0; done < st.rows; ) {
      const n = Math.min(o.batchRows, st.rows - done);
      batches.push(gen.ndjson(n));
      done += n;
    }
    rows += st.rows;
  }
  const { createChdbConnection } = await import('chdb/connection');
  const path = join(o.dataDir, 'clickhouse');
  mkdirSync(path, { recursive: true });
  const connection = createChdbConnection({ path });
  const client = createClient({ connection } as Parameters<typeof createClient>[0]);
  // The service's own migrations, as migrate() reads them (views=false: the table alone).
  for (const m of readMigrations(join(ROOT, 'clickhouse'))) {
    if (!o.views && !m.name.startsWith('001_')) continue;
    for (const stmt of m.statements) await client.command({ query: stmt });
  }
  const t0 = performance.now();
  // The fastest way into chDB we know: statement and data as one text on the session
  // (what src/clickhouse/store.ts does, minus the deduplication settings).
  for (const b of batches)
    await connection.chdb.queryAsync(`INSERT INTO feature_events FORMAT JSONEachRow\n${b}`);
  const seconds = (performance.now() - t0) / 1000;
  const rs = await client.query({
    query: `SELECT (SELECT count() FROM feature_events) AS c,
      (SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = currentDatabase()) AS b`,
    format: 'JSONEachRow',
  });
  const [r] = (await rs.json()) as Array<{ c: string; b: string }>;
  await client.close();
  process.stdout.write(
    `${JSON.stringify({ rows, stored: Number(r?.c), seconds, eps: Math.round(rows / seconds), bytes_on_disk: Number(r?.b) })}\n`,
  );
  // chDB keeps native threads alive; end the process once the answer is out.
  process.exit(0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`raw-clickhouse: ${err instanceof Error ? (err.stack ?? err.message) : err}\n`);
    process.exit(1);
  });
}
