/**
 * What one INSERT into chDB costs, by batch size: the fixed part (per insert) and the part per
 * row, with the schema's views, and how much of it is the merges that the inserts' parts set
 * off. Each configuration runs in its own process and data directory (chDB binds one per
 * process):
 *
 *   node --import tsx scripts/bench/insert-cost.ts [--rows 200000] [--batches 500,2000,10000,50000]
 *     [--rounds 2] [--skip 013,014] [--merges on|off] [--settings 'name=value,...'] [--table-settings '...']
 *
 * Per configuration it prints the CPU seconds of the process (every thread, /proc/self/stat)
 * spent in the inserts and, separately, in the merges still running after the last insert
 * (waited for until system.merges is empty and the active part count holds), then a
 * least-squares fit over the batch sizes: CPU = fixed × inserts + per_row × rows.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { readMigrations } from '../../src/clickhouse/migrate.js';
import { CHDB_MALLOC_CONF } from '../../src/service/chdb-allocator.js';
import { makeGenerator } from '../generate-events.js';
import { cpuSeconds, ROOT } from './lib.js';

export interface InsertCostOptions {
  rows: number;
  batch: number;
  skip: string[];
  merges: boolean;
  settings: string;
  tableSettings: string;
}

interface Child extends InsertCostOptions {
  dataDir: string;
}

export interface InsertCost {
  batch: number;
  inserts: number;
  insert_s: number;
  insert_cpu_s: number;
  settle_cpu_s: number;
  parts: number;
}

async function child(o: Child): Promise<InsertCost> {
  const gen = makeGenerator({ seed: 7, plannedRows: o.rows, users: 100_000 });
  const batches: string[] = [];
  for (let done = 0; done < o.rows; done += o.batch)
    batches.push(gen.ndjson(Math.min(o.batch, o.rows - done)));
  const { createChdbConnection } = await import('chdb/connection');
  const path = join(o.dataDir, 'clickhouse');
  mkdirSync(path, { recursive: true });
  const { chdb } = createChdbConnection({ path }) as unknown as {
    chdb: { queryAsync(q: string, o?: { format: string }): Promise<{ text(): string }> };
  };
  for (const m of readMigrations(join(ROOT, 'clickhouse'))) {
    if (o.skip.some((s) => m.name.startsWith(`${s}_`))) continue;
    for (const stmt of m.statements) await chdb.queryAsync(stmt);
  }
  if (o.tableSettings) {
    for (const t of [
      'feature_events',
      'feature_usage_hourly',
      'feature_usage_by_user',
      'feature_events_by_time',
    ]) {
      const exists = (await chdb.queryAsync(`EXISTS TABLE ${t}`, { format: 'TSV' })).text();
      if (exists.trim() === '1') await chdb.queryAsync(`ALTER TABLE ${t} MODIFY SETTING ${o.tableSettings}`);
    }
  }
  if (!o.merges) await chdb.queryAsync('SYSTEM STOP MERGES');
  const extra = o.settings ? `, ${o.settings}` : '';
  const c0 = cpuSeconds(process.pid);
  const t0 = performance.now();
  let n = 0;
  for (const b of batches) {
    n++;
    await chdb.queryAsync(
      `INSERT INTO feature_events SETTINGS insert_deduplication_token='t${n}'${extra} FORMAT JSONEachRow\n${b}`,
    );
  }
  const insertS = (performance.now() - t0) / 1000;
  const c1 = cpuSeconds(process.pid);
  // Wait for the merges the inserts set off: none running and the part count unchanged for 3 s.
  let last = -1;
  let stable = 0;
  let parts = 0;
  while (o.merges && stable < 3) {
    await new Promise((r) => setTimeout(r, 1000));
    const out = await chdb.queryAsync(
      `SELECT (SELECT count() FROM system.merges), (SELECT count() FROM system.parts WHERE active AND database = currentDatabase())`,
      { format: 'TSV' },
    );
    const [m, p] = out.text().trim().split('\t').map(Number);
    parts = p ?? 0;
    stable = m === 0 && p === last ? stable + 1 : 0;
    last = p ?? -1;
  }
  const c2 = cpuSeconds(process.pid);
  if (!o.merges) {
    const out = await chdb.queryAsync(
      `SELECT count() FROM system.parts WHERE active AND database = currentDatabase()`,
      { format: 'TSV' },
    );
    parts = Number(out.text().trim());
  }
  return {
    batch: o.batch,
    inserts: batches.length,
    insert_s: insertS,
    insert_cpu_s: c1 - c0,
    settle_cpu_s: Math.max(0, c2 - c1),
    parts,
  };
}

/** One configuration in its own process and data directory (chDB binds one per process). */
export function measureInsertCost(opts: InsertCostOptions): InsertCost {
  const dataDir = mkdtempSync(join(tmpdir(), 'insert-cost-'));
  try {
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'scripts/bench/insert-cost.ts'),
        '--child',
        JSON.stringify({ ...opts, dataDir }),
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, JE_MALLOC_CONF: process.env.JE_MALLOC_CONF ?? CHDB_MALLOC_CONF },
      },
    );
    return JSON.parse(out.trim().split('\n').pop() as string) as InsertCost;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  if (process.argv[2] === '--child') {
    const o = JSON.parse(process.argv[3] as string) as Child;
    process.stdout.write(`${JSON.stringify(await child(o))}\n`);
    process.exit(0);
  }
  const { values: a } = parseArgs({
    options: {
      rows: { type: 'string', default: '200000' },
      batches: { type: 'string', default: '500,2000,10000,50000' },
      rounds: { type: 'string', default: '2' },
      skip: { type: 'string', default: '' },
      merges: { type: 'string', default: 'on' },
      settings: { type: 'string', default: '' },
      'table-settings': { type: 'string', default: '' },
    },
  });
  const sizes = a.batches.split(',').map(Number);
  const results: InsertCost[] = [];
  for (let round = 0; round < Number(a.rounds); round++) {
    for (const batch of round % 2 ? [...sizes].reverse() : sizes) {
      const r = measureInsertCost({
        rows: Number(a.rows),
        batch,
        skip: a.skip ? a.skip.split(',') : [],
        merges: a.merges !== 'off',
        settings: a.settings,
        tableSettings: a['table-settings'],
      });
      results.push(r);
      const rows = Number(a.rows);
      console.log(
        `batch ${batch}: ${r.inserts} inserts, ${r.insert_s.toFixed(2)} s, insert CPU ${r.insert_cpu_s.toFixed(2)} s (${((r.insert_cpu_s * 1e6) / rows).toFixed(1)} µs/row), merges after ${r.settle_cpu_s.toFixed(2)} s, total ${(((r.insert_cpu_s + r.settle_cpu_s) * 1e6) / rows).toFixed(1)} µs/row, ${r.parts} parts`,
      );
    }
  }
  if (sizes.length < 2) return; // a fit needs two batch sizes
  // CPU = fixed × inserts + perRow × rows, least squares over every run (rows are the same in each).
  const xs = results.map((r) => r.inserts);
  const ys = results.map((r) => r.insert_cpu_s + r.settle_cpu_s);
  const mx = xs.reduce((s, x) => s + x, 0) / xs.length;
  const my = ys.reduce((s, y) => s + y, 0) / ys.length;
  const slope =
    xs.reduce((s, x, i) => s + (x - mx) * ((ys[i] as number) - my), 0) /
    xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  const intercept = my - slope * mx;
  console.log(
    `fit: ${(slope * 1000).toFixed(1)} ms of CPU per insert + ${((intercept * 1e6) / Number(a.rows)).toFixed(1)} µs per row`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`insert-cost: ${err instanceof Error ? (err.stack ?? err.message) : err}\n`);
    process.exit(1);
  });
}
