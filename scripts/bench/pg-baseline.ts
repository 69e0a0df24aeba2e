/**
 * The PostgreSQL baseline: the same rows (COPY from the stages' generators) and the same
 * questions, one client, at each stage, in a throwaway cluster (postgres.ts). Skipped, with
 * the reason, when no PostgreSQL can be found or installed.
 */
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Generator, progress } from '../generate-events.js';
import { analyticsPg } from './analytics.js';
import { closedLoop, type LatencyStats, log, round2 } from './lib.js';
import { ALL_PIPES, type AnyPipe, isAnalytics, paramList } from './params.js';
import type { Plan } from './plan.js';
import { ensurePostgres, PG_QUERIES, type Postgres, startPostgres } from './postgres.js';

export interface PgBaseline {
  ingest_eps: number;
  bytes_per_event: number;
  bytes: unknown;
  /** Per stage size, per pipe: 1 client. */
  serial: Record<string, Record<AnyPipe, LatencyStats>>;
}

const pgQuery = (p: AnyPipe, params: Record<string, string>) =>
  isAnalytics(p) ? analyticsPg(p, params) : PG_QUERIES[p](params);

async function pgSerial(pgdb: Postgres, gen: Generator, plan: Plan): Promise<Record<AnyPipe, LatencyStats>> {
  const { serialCalls, serialSeconds } = plan.sizes;
  const out = {} as Record<AnyPipe, LatencyStats>;
  for (const pipe of ALL_PIPES) {
    const params = paramList(pipe, gen, plan.endMs, serialCalls + 2);
    await pgdb.client.query(pgQuery(pipe, params[0] as Record<string, string>));
    out[pipe] = await closedLoop(1, serialSeconds * 1000, serialCalls, async (i) => {
      await pgdb.client.query(pgQuery(pipe, params[i] as Record<string, string>));
      return true;
    });
    log(
      `PostgreSQL ${pipe}: 1 client p50 ${out[pipe].p50} ms p95 ${out[pipe].p95} ms (${out[pipe].n} calls)`,
    );
  }
  return out;
}

/** The same stage generators, written as COPY text files the server can read. */
function writeTsv(dir: string, stage: number, plan: Plan): string {
  const gen = plan.stageGen(stage);
  const rows = plan.stageRows(stage);
  const file = join(dir, `stage${stage}.tsv`);
  const bar = progress(`PostgreSQL data stage ${stage + 1}`, rows);
  writeFileSync(file, '');
  for (let done = 0; done < rows; ) {
    const n = Math.min(100_000, rows - done);
    writeFileSync(file, gen.tsv(n), { flag: 'a' });
    done += n;
    bar.tick(done);
  }
  bar.done();
  chmodSync(file, 0o644);
  return file;
}

export async function measurePostgres(deps: {
  plan: Plan;
  tmp: (prefix: string) => string;
  cleanups: Array<() => Promise<void>>;
}): Promise<{ result?: PgBaseline; skip?: string }> {
  const { plan } = deps;
  const found = ensurePostgres();
  if (!found.bin) return { skip: found.skip };
  log('PostgreSQL: starting a throwaway cluster');
  const pgdb = await startPostgres(found.bin);
  deps.cleanups.push(() => pgdb.stop());
  const dir = deps.tmp('fe-bench-pgdata-');
  chmodSync(dir, 0o755);
  let copySecs = 0;
  const serial: PgBaseline['serial'] = {};
  const { stages } = plan.sizes;
  for (let s = 0; s < stages.length; s++) {
    const file = writeTsv(dir, s, plan);
    copySecs += await pgdb.copy(file);
    rmSync(file);
    serial[stages[s] as number] = await pgSerial(pgdb, plan.stageGen(s), plan);
  }
  const total = stages[stages.length - 1] as number;
  const bytes = await pgdb.bytes();
  await pgdb.stop();
  return {
    result: {
      ingest_eps: Math.round(total / copySecs),
      bytes_per_event: round2(bytes.total / total),
      bytes,
      serial,
    },
  };
}
