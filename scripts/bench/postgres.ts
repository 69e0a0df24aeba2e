/**
 * The baseline a team would otherwise build: PostgreSQL (Debian package), one row per event,
 * B-tree indexes on (feature_id, product_version, timestamp) and (user_id), metadata JSONB,
 * loaded with COPY, asked the same three questions in plain SQL.
 *
 * A throwaway cluster: initdb in a temp dir, owned by the postgres user when we run as root
 * (postgres refuses to run as root), on a free port, listening on 127.0.0.1 only.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, log } from './lib.js';

export interface Postgres {
  port: number;
  client: pg.Client;
  dir: string;
  /** COPY a tab-separated file (readable by the server) into feature_events. */
  copy(file: string): Promise<number>;
  bytes(): Promise<{ total: number; table: number; indexes: number }>;
  stop(): Promise<void>;
}

function findBin(): string | undefined {
  const onPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  if (onPath && existsSync(join(onPath, '..', 'pg_ctl'))) return join(onPath, '..');
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(base, v, 'bin', 'initdb'))) return join(base, v, 'bin');
  return undefined;
}

/** PostgreSQL binaries: found, or installed with apt-get when root; otherwise a reason to skip. */
export function ensurePostgres(): { bin?: string; skip?: string } {
  let bin = findBin();
  if (bin) return { bin };
  const root = process.getuid?.() === 0;
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).stdout.trim();
  if (!root || !apt) {
    return {
      skip: 'PostgreSQL is not installed and this is not root with apt-get: install the Debian package "postgresql" (sudo apt-get install -y postgresql) to include the PostgreSQL baseline',
    };
  }
  log('installing PostgreSQL (apt-get install -y postgresql) for the baseline');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '-q', 'postgresql'], {
    env,
    stdio: 'ignore',
    timeout: 600_000,
  });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-q'], { env, stdio: 'ignore', timeout: 300_000 });
    r = spawnSync('apt-get', ['install', '-y', '-q', 'postgresql'], {
      env,
      stdio: 'ignore',
      timeout: 600_000,
    });
  }
  bin = findBin();
  return bin ? { bin } : { skip: 'apt-get install postgresql failed: PostgreSQL baseline skipped' };
}

export const SCHEMA = `
CREATE TABLE feature_events (
  event_id        text NOT NULL,
  user_id         text NOT NULL,
  feature_id      text NOT NULL,
  product_version text NOT NULL,
  event_type      text NOT NULL,
  "timestamp"     timestamp NOT NULL,
  session_id      text NOT NULL DEFAULT '',
  metadata        jsonb
);
CREATE INDEX feature_events_fvt ON feature_events (feature_id, product_version, "timestamp");
CREATE INDEX feature_events_user ON feature_events (user_id);
`;

export async function startPostgres(bin: string): Promise<Postgres> {
  const dir = mkdtempSync(join(tmpdir(), 'fe-bench-pg-'));
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  const root = process.getuid?.() === 0;
  const asPg = (cmd: string, args: string[]) => {
    if (!root) return execFileSync(cmd, args, { stdio: 'pipe', timeout: 120_000 });
    return execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], {
      stdio: 'pipe',
      timeout: 120_000,
    });
  };
  if (root) execFileSync('chown', ['postgres:postgres', dir]);
  asPg(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  // Settings a team would give a 2-core, many-GB box; durability settings left as shipped.
  const settings = ['shared_buffers=1GB', 'work_mem=64MB', 'maintenance_work_mem=512MB', 'max_wal_size=4GB']
    .map((kv) => `-c ${kv}`)
    .join(' ');
  asPg(join(bin, 'pg_ctl'), [
    '-D',
    data,
    '-l',
    join(dir, 'log'),
    '-w',
    '-t',
    '60',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 ${settings}`,
    'start',
  ]);
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await client.connect();
  await client.query("SET TimeZone = 'UTC'");
  await client.query(SCHEMA);
  let stopped = false;
  return {
    port,
    client,
    dir,
    async copy(file) {
      const t0 = performance.now();
      const r = await client.query(`COPY feature_events FROM '${file.replaceAll("'", "''")}' (FORMAT text)`);
      const secs = (performance.now() - t0) / 1000;
      await client.query('ANALYZE feature_events');
      log(`PostgreSQL COPY ${r.rowCount} rows in ${secs.toFixed(1)} s`);
      return secs;
    },
    async bytes() {
      const r = await client.query(
        "SELECT pg_total_relation_size('feature_events') AS total, pg_relation_size('feature_events') AS tbl, pg_indexes_size('feature_events') AS idx",
      );
      const row = r.rows[0] as { total: string; tbl: string; idx: string };
      return { total: Number(row.total), table: Number(row.tbl), indexes: Number(row.idx) };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await client.end().catch(() => {});
      try {
        asPg(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
      } catch (err) {
        log(`pg_ctl stop failed: ${err instanceof Error ? err.message : err}`);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The three questions in SQL, the same parameters the pipes get. */
export const PG_QUERIES = {
  user_feature_usage: (p: Record<string, string>) => ({
    text: `SELECT feature_id, product_version, count(*) AS events, count(DISTINCT session_id) AS sessions,
        min("timestamp") AS first_used, max("timestamp") AS last_used
      FROM feature_events WHERE user_id = $1
      GROUP BY feature_id, product_version ORDER BY feature_id, product_version LIMIT 1000`,
    values: [p.user_id],
  }),
  feature_usage_summary: (p: Record<string, string>) =>
    p.feature_id
      ? {
          text: `SELECT feature_id, product_version, count(*) AS events, count(DISTINCT user_id) AS unique_users,
              count(DISTINCT session_id) AS unique_sessions, min("timestamp") AS first_seen, max("timestamp") AS last_seen
            FROM feature_events WHERE feature_id = $1 AND "timestamp" BETWEEN $2 AND $3
            GROUP BY feature_id, product_version ORDER BY feature_id, product_version LIMIT 10000`,
          values: [p.feature_id, p.start_date, p.end_date],
        }
      : {
          text: `SELECT feature_id, product_version, count(*) AS events, count(DISTINCT user_id) AS unique_users,
              count(DISTINCT session_id) AS unique_sessions, min("timestamp") AS first_seen, max("timestamp") AS last_seen
            FROM feature_events WHERE "timestamp" BETWEEN $1 AND $2
            GROUP BY feature_id, product_version ORDER BY feature_id, product_version LIMIT 10000`,
          values: [p.start_date, p.end_date],
        },
  feature_usage_timeline: (p: Record<string, string>) =>
    p.feature_id
      ? {
          text: `SELECT date_trunc('day', "timestamp") AS bucket, feature_id, count(*) AS events, count(DISTINCT user_id) AS unique_users
            FROM feature_events WHERE "timestamp" >= localtimestamp - interval '30 day' AND feature_id = $1
            GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 10000`,
          values: [p.feature_id],
        }
      : {
          text: `SELECT date_trunc('day', "timestamp") AS bucket, feature_id, count(*) AS events, count(DISTINCT user_id) AS unique_users
            FROM feature_events WHERE "timestamp" >= localtimestamp - interval '30 day'
            GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 10000`,
          values: [],
        },
} as const;
