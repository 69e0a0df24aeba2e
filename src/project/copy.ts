import { CronExpressionParser } from 'cron-parser';
import { readText } from '../clickhouse/read-text.js';
import type { Admin } from '../clickhouse/reader.js';
import type { Log } from '../log/index.js';
import { compilePipe, renderPipe, type TableColumns } from '../pipes/index.js';
import type { RequestParams } from '../pipes/params.js';
import type { ProjectPipe } from './load.js';

export interface CopyJob {
  pipe: string;
  target: string;
  mode: 'append' | 'replace';
  schedule?: string;
  run(params?: RequestParams): Promise<{ rows: number }>;
}

/**
 * A TYPE copy pipe: its node's result inserted into TARGET_DATASOURCE, on demand
 * (POST /v0/pipes/<name>/copy) and on COPY_SCHEDULE (cron, UTC). COPY_MODE replace empties
 * the target first (that is what the mode asks for); append, the default, adds.
 */
export function copyJob(
  pipe: ProjectPipe,
  client: Admin,
  tables?: TableColumns,
  /** Wraps the INSERT so it counts as a write (cached pipe answers are dropped after it). */
  write: <T>(run: () => Promise<T>) => Promise<T> = (run) => run(),
): CopyJob {
  const node = pipe.df.nodes.find((n) => n.type === 'copy');
  const target = node?.settings.target_datasource;
  if (!node || !target) throw new Error(`${pipe.file}: a TYPE copy node needs TARGET_DATASOURCE <name>`);
  // Rendered like an endpoint (parameters with defaults, earlier nodes as CTEs), then inserted.
  const compiled = compilePipe(
    pipe.name,
    pipe.file,
    { ...pipe.df, nodes: pipe.df.nodes.map((n) => (n === node ? { ...n, type: 'endpoint' } : n)) },
    tables,
  );
  const mode = node.settings.copy_mode?.toLowerCase() === 'replace' ? 'replace' : 'append';
  const schedule = node.settings.copy_schedule;
  return {
    pipe: pipe.name,
    target,
    mode,
    schedule: schedule && schedule !== '@on-demand' ? schedule : undefined,
    async run(params = new Map()) {
      const { sql, params: bound } = renderPipe(compiled, params);
      if (mode === 'replace') await client.command({ query: `TRUNCATE TABLE \`${target}\`` });
      const before = await count(client, target);
      await write(async () =>
        readText(
          (await client.exec({ query: `INSERT INTO \`${target}\` ${sql}`, query_params: bound })).stream,
        ),
      );
      return { rows: (await count(client, target)) - (mode === 'replace' ? 0 : before) };
    },
  };
}

async function count(client: Admin, table: string): Promise<number> {
  const rs = await client.query({ query: `SELECT count() AS n FROM \`${table}\``, format: 'JSONEachRow' });
  const [row] = await rs.json<{ n: string }>();
  return Number(row?.n ?? 0);
}

const DAY_MS = 86_400_000;

/** Runs scheduled copies at their cron times until stopped. */
export function scheduleCopies(jobs: CopyJob[], log: Log): () => void {
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  const plan = (job: CopyJob) => {
    if (stopped || !job.schedule) return;
    const next = CronExpressionParser.parse(job.schedule, { tz: 'UTC' }).next().getTime();
    // setTimeout fires at once past 2^31 ms (24.8 days): a far run waits a day at a time.
    if (next - Date.now() > DAY_MS) {
      const wait = setTimeout(() => {
        timers.delete(wait);
        plan(job);
      }, DAY_MS);
      wait.unref();
      timers.add(wait);
      return;
    }
    const timer = setTimeout(
      async () => {
        timers.delete(timer);
        try {
          const { rows } = await job.run();
          log('info', 'copy pipe ran', { pipe: job.pipe, target: job.target, rows });
        } catch (err) {
          log('error', 'copy pipe failed', { pipe: job.pipe, error: (err as Error).message });
        }
        plan(job);
      },
      Math.max(0, next - Date.now()),
    );
    timer.unref();
    timers.add(timer);
  };
  for (const j of jobs) plan(j);
  return () => {
    stopped = true;
    for (const t of timers) clearTimeout(t);
  };
}
