import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libraryClient } from '../src/clickhouse/library-client.js';
import { acquireLock } from '../src/clickhouse/migrations/lock.js';
import { SINGLE } from '../src/clickhouse/migrations/profile.js';
import { freePort, type ServiceProcess, startServiceProcess } from './helpers/service.js';

/** The shipped migrations after 004, which the store set up at 004 still lacks. */
const AFTER_004 = readdirSync(fileURLToPath(new URL('../clickhouse', import.meta.url)))
  .filter((f) => f.endsWith('.sql') && f >= '005')
  .sort();

// Several processes, one store: a host process owns an embedded chDB store and serves it as
// a writable ClickHouse HTTP interface (test-only mode, issue 13); every other process here
// reaches it through CLICKHOUSE_URL, as it would a ClickHouse server. What this cannot show
// is a cluster (Keeper, replicas): see docs/scaling.md.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REPO_MIGRATIONS = join(ROOT, 'clickhouse');
const TOKEN = 'race-admin-token-0123456789abcdef';
const EVENTS = 20_000;
const USERS = 500;
const SESSIONS = 3_000;

let host: ChildProcess;
let url: string;
let admin: ClickHouseClient;
const work = mkdtempSync(join(tmpdir(), 'migrate-race-'));

/** A folder holding the repository's migration files that pass `keep`, plus `extra` files. */
function migrationsDir(name: string, keep: (file: string) => boolean, extra: Record<string, string> = {}) {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const f of readdirSync(REPO_MIGRATIONS).filter(keep))
    copyFileSync(join(REPO_MIGRATIONS, f), join(dir, f));
  for (const [f, text] of Object.entries(extra)) writeFileSync(join(dir, f), text);
  return dir;
}

interface Run {
  code: number | null;
  out: string;
  /** Resolves once the output contains `text`. */
  saw(text: string): Promise<void>;
  done: Promise<Run>;
}

function runMigrate(args: string[] = []): Run {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/migrate.ts', ...args], {
    cwd: ROOT,
    // RAW_RETENTION_DAYS=0: the fixture's events span 2026, and the counts below compare them all.
    env: {
      ...process.env,
      CLICKHOUSE_URL: url,
      CLICKHOUSE_PASSWORD: TOKEN,
      DATA_DIR: join(work, 'unused'),
      RAW_RETENTION_DAYS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Run = {
    code: null,
    out: '',
    saw: (text) =>
      new Promise((resolve, reject) => {
        const look = () => {
          if (run.out.includes(text)) resolve();
          else if (run.code !== null) reject(new Error(`exited ${run.code} without "${text}":\n${run.out}`));
          else setTimeout(look, 50);
        };
        look();
      }),
    done: new Promise((resolve) =>
      proc.once('exit', (code) => {
        run.code = code;
        resolve(run);
      }),
    ),
  };
  proc.stdout.on('data', (d) => {
    run.out += d;
  });
  proc.stderr.on('data', (d) => {
    run.out += d;
  });
  return run;
}

async function rows<T>(query: string): Promise<T[]> {
  const rs = await admin.query({ query, format: 'JSONEachRow' });
  return rs.json<T>();
}
const num = async (query: string) =>
  Number(Object.values((await rows<Record<string, unknown>>(query))[0] ?? {})[0]);

beforeAll(async () => {
  const port = await freePort();
  host = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/helpers/listener-host.ts', join(work, 'store'), String(port), TOKEN],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    host.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('LISTENING')) resolve();
    });
    host.once('exit', (code) => reject(new Error(`listener host exited with ${code}`)));
  });
  url = `http://127.0.0.1:${port}`;
  admin = createClient({ url, password: TOKEN });
});

afterAll(async () => {
  await admin?.close();
  if (host && host.exitCode === null) {
    host.kill('SIGTERM');
    await new Promise((r) => host.once('exit', r));
  }
});

describe('migrations with several processes on one store', () => {
  it('an older store: 001-004 applied, events stored before the compact rollups existed', async () => {
    const run = await runMigrate(['--dir', migrationsDir('upto-004', (f) => f < '005')]).done;
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain('applied 4');
    const lines = Array.from({ length: EVENTS }, (_, i) =>
      JSON.stringify({
        event_id: `race${i}`,
        user_id: `u${i % USERS}`,
        feature_id: `f${i % 7}`,
        product_version: `1.${i % 3}`,
        event_type: 'feature_used',
        timestamp: `2026-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')} ${String(i % 24).padStart(2, '0')}:00:00`,
        session_id: `s${i % SESSIONS}`,
        metadata: '',
      }),
    );
    await admin.insert({
      table: 'feature_events',
      values: lines.map((l) => JSON.parse(l)),
      format: 'JSONEachRow',
    });
    expect(await num('SELECT count() FROM feature_events')).toBe(EVENTS);
  });

  it('a role that may not migrate waits for the schema, then refuses with what to run', async () => {
    const started = Date.now();
    const err = await startServiceProcess({
      env: {
        CLICKHOUSE_URL: url,
        CLICKHOUSE_PASSWORD: TOKEN,
        MIGRATE_ON_START: 'false',
        SCHEMA_WAIT_SECONDS: '2',
      },
    }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toMatch(/service exited with 2/);
    const pending = AFTER_004.map((f) => f.replace(/\./g, '\\.')).join(', ');
    expect(message).toMatch(
      new RegExp(
        `schema is not current after waiting 2 s: ${AFTER_004.length} migration\\(s\\) pending \\(${pending}\\)`,
      ),
    );
    expect(message).toContain('npm run migrate');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
  });

  it("four processes claiming one lock epoch at once: ClickHouse's insert deduplication lets exactly one win", async () => {
    const claims = Array.from(
      { length: 4 },
      (_, i) =>
        new Promise<string>((resolve) => {
          let out = '';
          const p = spawn(
            process.execPath,
            ['--import', 'tsx', 'test/helpers/claim-epoch.ts', url, TOKEN, '1000', `claimer-${i}`],
            {
              cwd: ROOT,
              stdio: ['ignore', 'pipe', 'inherit'],
            },
          );
          p.stdout.on('data', (d) => {
            out += d;
          });
          p.once('exit', () => resolve(out.trim()));
        }),
    );
    expect((await Promise.all(claims)).sort()).toEqual(['lost', 'lost', 'lost', 'won']);
    expect(await num('SELECT count() FROM schema_lock WHERE epoch = 1000')).toBe(1);
    // Epoch 1000 is nobody's lock: release it so the runners below start from a free lock.
    await admin.command({
      query:
        "INSERT INTO schema_lock_beats (epoch, holder, state) SELECT 1000, holder, 'released' FROM schema_lock WHERE epoch = 1000",
    });
  });

  it('four runners started together and waiting on one lock: each file applied exactly once, rollups exact', async () => {
    // Hold the lock while four runners start, so all four are waiting when it frees. Each sees
    // it free on its next poll (within 500 ms), so whether two claim the same epoch is up to
    // timing; the claim test above makes that case certain.
    const gate = await acquireLock(libraryClient(admin), SINGLE, 'test-gate');
    const runners = Array.from({ length: 4 }, () => runMigrate());
    await Promise.all(runners.map((r) => r.saw('waiting for the migration lock: held by test-gate')));
    await gate.release();
    const done = await Promise.all(runners.map((r) => r.done));
    for (const r of done) expect(r.code, r.out).toBe(0);

    const applied = done.map((r) => Number(/applied (\d+)/.exec(r.out)?.[1]));
    expect(applied.sort()).toEqual([0, 0, 0, AFTER_004.length]);
    const log = await rows<{ name: string; n: string; holders: string }>(
      'SELECT name, count() AS n, uniqExact(holder) AS holders FROM schema_migrations_log GROUP BY name ORDER BY name',
    );
    expect(log.map((r) => [r.name, Number(r.n)])).toEqual(
      readdirSync(REPO_MIGRATIONS)
        .filter((f) => f.endsWith('.sql'))
        .sort()
        .map((f) => [f, 1]),
    );
    // One claim row per lock epoch, whatever the contention.
    expect(await num('SELECT max(c) FROM (SELECT count() AS c FROM schema_lock GROUP BY epoch)')).toBe(1);

    // 005 rebuilt both rollups from the events already stored: each event counted once.
    expect(await num('SELECT sum(events) FROM feature_usage_hourly')).toBe(EVENTS);
    expect(await num('SELECT sum(events) FROM feature_usage_by_user')).toBe(EVENTS);
    expect(await num('SELECT uniqExactMerge(users) FROM feature_usage_hourly')).toBe(USERS);
    expect(await num('SELECT uniqExactMerge(sessions) FROM feature_usage_hourly')).toBe(SESSIONS);
    expect(
      await num(`SELECT count() FROM (
        SELECT feature_id, product_version, hour, sum(events) AS n FROM feature_usage_hourly GROUP BY ALL) AS r
        FULL JOIN (SELECT feature_id, product_version, toStartOfHour(timestamp) AS hour, count() AS n
                   FROM feature_events GROUP BY ALL) AS e USING (feature_id, product_version, hour)
        WHERE r.n != e.n`),
    ).toBe(0);
  });

  it('a rebuild is refused while a writer process writes, and runs once it stopped', async () => {
    const rebuild = migrationsDir('with-rebuild', (f) => f.endsWith('.sql'), {
      '900_rebuild_counts.sql': [
        'DROP TABLE IF EXISTS race_counts;',
        'CREATE TABLE race_counts (user_id String, n UInt64) ENGINE = SummingMergeTree ORDER BY user_id;',
        'INSERT INTO race_counts SELECT user_id, count() FROM feature_events GROUP BY user_id;',
      ].join('\n'),
    });
    let writer: ServiceProcess | undefined = await startServiceProcess({
      env: { CLICKHOUSE_URL: url, CLICKHOUSE_PASSWORD: TOKEN, ROLE: 'all' },
    });
    try {
      const refused = await runMigrate(['--dir', rebuild]).done;
      expect(refused.code, refused.out).toBe(1);
      expect(refused.out).toMatch(
        /900_rebuild_counts\.sql rebuilds stored rows \(it drops a table or view, back-fills a table from a query\)/,
      );
      expect(refused.out).toMatch(/Running writers: all \S+ on \S+ \(seen \d+ ms ago\)/);
      expect(
        await num("SELECT count() FROM schema_migrations_log WHERE name = '900_rebuild_counts.sql'"),
      ).toBe(0);
      expect(await num("SELECT count() FROM system.tables WHERE name = 'race_counts'")).toBe(0);
      expect(await writer.stop()).toBe(0);
      writer = undefined;
      const ran = await runMigrate(['--dir', rebuild]).done;
      expect(ran.code, ran.out).toBe(0);
      expect(ran.out).toContain('applied 1 (900_rebuild_counts.sql)');
      expect(await num('SELECT sum(n) FROM race_counts')).toBe(EVENTS);
    } finally {
      await writer?.stop();
    }
  });
});
