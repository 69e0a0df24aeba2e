import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { errorLine, runCli } from './helpers/cli.js';
import { event, ndjson, type ServiceProcess, startServiceProcess } from './helpers/service.js';

// `feature-events backup` and `restore` in embedded mode, as an operator runs them: a store
// with events, quarantined rows, a Tinybird project (datasources and a materialized view)
// and rows a killed service left in its spool is backed up, restored into an empty DATA_DIR,
// and the two services then give the same answer on every pipe endpoint, the same row count
// in every table, and accept the same tokens. The views keep working after the restore.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'fe-backup-'));
const dirA = join(tmp, 'a');
const dirB = join(tmp, 'b');
const backupDir = join(tmp, 'backup');

// The shipped pipes plus the Tinybird fixture's datasources, materialization and endpoints
// (not its hourly copy job, which would make the two stores differ on the hour).
const project = join(tmp, 'project');
cpSync(join(ROOT, 'pipes'), project, { recursive: true });
for (const part of ['datasources', 'materializations', 'endpoints', 'includes'])
  cpSync(join(ROOT, 'test/fixtures/tinybird-project', part), join(project, part), { recursive: true });
rmSync(join(project, 'datasources/top_pages_snapshot.datasource'));
const serviceEnv = { PROJECT_DIR: project };

const running: ServiceProcess[] = [];
async function start(dataDir: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const svc = await startServiceProcess({ dataDir, env: { ...serviceEnv, ...env }, readyTimeoutMs: 120_000 });
  running.push(svc);
  return svc;
}
afterAll(async () => {
  for (const s of running) await s.stop();
});

async function post(svc: ServiceProcess, name: string, body: string, wait = true) {
  const res = await fetch(`${svc.baseUrl}/v0/events?name=${name}${wait ? '&wait=true' : ''}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${svc.token}` },
    body,
  });
  expect(res.status, await res.clone().text()).toBe(wait ? 200 : 202);
  return (await res.json()) as { successful_rows: number; quarantined_rows: number; redacted_rows: number };
}

async function get(svc: ServiceProcess, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${svc.baseUrl}${path}`, {
    headers: { Authorization: `Bearer ${svc.token}`, 'Cache-Control': 'no-cache' },
  });
  const text = await res.text();
  const json = JSON.parse(text) as { data?: unknown; rows?: number };
  // What the pipe answered, without the timings of this particular run.
  return { status: res.status, body: json.data !== undefined ? { data: json.data, rows: json.rows } : json };
}

const numbers = (row: Record<string, unknown> | undefined) =>
  Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, Number(v)]));

async function tableCounts(svc: ServiceProcess): Promise<Record<string, number>> {
  const tables = await svc.sql<{ name: string }>(
    "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine NOT LIKE '%View' ORDER BY name",
  );
  const out: Record<string, number> = {};
  for (const { name } of tables)
    out[name] = Number((await svc.sql<{ n: string }>(`SELECT count() AS n FROM ${name}`))[0]?.n);
  return out;
}

describe('backup and restore (embedded)', () => {
  it('restores into an empty DATA_DIR with identical pipe answers and row counts', async () => {
    // 1. A store with history: generated events over 400 days (two yearly partitions), bad
    //    rows, a project's datasources and materialized view.
    const a = await start(dirA);
    const generated = await runCli([
      'generate',
      '--count',
      '4000',
      '--users',
      '300',
      '--span-days',
      '400',
      '--post',
      a.baseUrl,
      '--token',
      a.token,
    ]);
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stderr).toMatch(/posting \[#+\] 100% 4,000\/4,000/);
    expect(
      await post(a, 'feature_events', ndjson([{ event_id: 'bad_1' }, { event_id: 'bad_2', user_id: 'u' }])),
    ).toEqual({
      successful_rows: 0,
      quarantined_rows: 2,
      redacted_rows: 0,
    });
    const views = Array.from({ length: 50 }, (_, i) => ({
      timestamp: `2026-11-${String(1 + (i % 20)).padStart(2, '0')} 10:00:00`,
      session_id: `s${i % 7}`,
      page: { pathname: ['/', '/docs', '/pricing'][i % 3] },
      geo: { country: 'ES' },
      duration_ms: i * 10,
    }));
    expect((await post(a, 'page_views', ndjson(views))).successful_rows).toBe(50);
    const signups = [{ created_at: '2026-11-02 10:00:00', account_id: 'acc1', plan: 'pro', seats: 3 }];
    expect((await post(a, 'signups', ndjson(signups))).successful_rows).toBe(1);

    // 2. The service holds DATA_DIR: the backup says so and does nothing.
    const refused = await runCli(['backup', '--to', backupDir], { DATA_DIR: dirA });
    expect(refused.code).toBe(1);
    expect(errorLine(refused)).toMatch(
      /^feature-events backup: DATA_DIR=.* is open in process \d+ .*stop the service/,
    );
    expect(existsSync(backupDir)).toBe(false);

    // 3. Rows acknowledged (202) and still in the spool when the service is killed.
    expect(await a.stop()).toBe(0);
    const a2 = await start(dirA, { BATCH_MAX_WAIT_MS: '600000', BATCH_MAX_ROWS: '1000000' });
    const spooled = Array.from({ length: 40 }, (_, i) =>
      event({ event_id: `spooled_${i}`, user_id: `spool_user_${i % 3}` }),
    );
    expect((await post(a2, 'feature_events', ndjson(spooled), false)).successful_rows).toBe(40);
    // A project datasource's rows wait in the same spool.
    const spooledSignups = ['acc2', 'acc3'].map((account_id) => ({
      created_at: '2026-11-03 10:00:00',
      account_id,
      plan: 'team',
      seats: 2,
    }));
    expect((await post(a2, 'signups', ndjson(spooledSignups), false)).successful_rows).toBe(2);
    await a2.kill();

    // 4. Back up (storing the spooled rows first), restore into an empty DATA_DIR.
    const backedUp = await runCli(['backup', '--to', backupDir], { ...serviceEnv, DATA_DIR: dirA });
    expect(backedUp.code, backedUp.stderr).toBe(0);
    expect(backedUp.stdout).toMatch(/^backed up \d+ tables and views, [\d,]+ rows \(.*\) to /);
    expect(backedUp.stderr).toMatch(/^backup: [\d,]+ files, .* \(/m);
    expect(readdirSync(backupDir).sort()).toEqual(['clickhouse', 'files', 'manifest.json']);
    const restored = await runCli(['restore', '--from', backupDir], { DATA_DIR: dirB });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/admin-token.*row counts match the backup/);
    expect(restored.stderr).toMatch(/^restore: [\d,]+ files, /m);
    // A store that has tables is never restored over.
    const twice = await runCli(['restore', '--from', backupDir], { DATA_DIR: dirB });
    expect(twice.code).toBe(1);
    expect(errorLine(twice)).toMatch(/already has tables \(.*\); restore needs an empty one/);

    // 5. Both stores served side by side: the same answers, counts and tokens.
    const [orig, copy] = [await start(dirA), await start(dirB)];
    expect(copy.token).toBe(orig.token); // the generated admin token came back with the data
    const countsA = await tableCounts(orig);
    expect(countsA.feature_events).toBe(4040);
    expect(countsA.feature_events_quarantine).toBe(2);
    expect(countsA.signups).toBe(3); // the spooled signups went to their table, not to quarantine
    expect(await tableCounts(copy)).toEqual(countsA);
    const tokensOf = async (s: ServiceProcess) =>
      ((await get(s, '/v0/tokens')).body as { tokens: { name: string; token: string }[] }).tokens;
    expect(await tokensOf(copy)).toEqual(await tokensOf(orig));

    const { pipes } = (await get(orig, '/v0/pipes')).body as {
      pipes: { name: string; parameters: { name: string; type: string; required: boolean }[] }[];
    };
    expect(pipes.map((p) => p.name)).toEqual(expect.arrayContaining(['feature_usage_summary', 'top_pages']));
    const [someUser] = await orig.sql<{ u: string }>(
      'SELECT user_id AS u FROM feature_events ORDER BY count() OVER (PARTITION BY user_id) DESC, user_id LIMIT 1',
    );
    const features = await orig.sql<{ f: string }>(
      'SELECT DISTINCT feature_id AS f FROM feature_events ORDER BY f LIMIT 2',
    );
    const value: Record<string, string> = {
      user_id: someUser?.u ?? '',
      feature_id: features[0]?.f ?? '',
      feature_a: features[0]?.f ?? '',
      feature_b: features[1]?.f ?? '',
    };
    let compared = 0;
    for (const p of pipes) {
      const required = new URLSearchParams(
        p.parameters.filter((x) => x.required).map((x) => [x.name, value[x.name] ?? '']),
      );
      const windows = [required];
      // And an explicit window over the whole history where the pipe takes one.
      if (p.parameters.some((x) => x.name === 'start_date')) {
        const wide = new URLSearchParams(required);
        const date = p.parameters.find((x) => x.name === 'start_date')?.type === 'Date';
        wide.set('start_date', date ? '2020-01-01' : '2020-01-01 00:00:00');
        wide.set('end_date', date ? '2030-01-01' : '2030-01-01 00:00:00');
        windows.push(wide);
      }
      for (const params of windows) {
        const path = `/v0/pipes/${p.name}.json?${params}`;
        const [x, y] = [await get(orig, path), await get(copy, path)];
        expect(x.status, `${path}: ${JSON.stringify(x.body)}`).toBe(200);
        expect(y, path).toEqual(x);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(pipes.length);

    // The weekly report reads the restored service like any other.
    const reports = join(tmp, 'reports');
    const report = await runCli(['report', '--host', copy.baseUrl, '--token', copy.token, '--out', reports]);
    expect(report.code, report.stderr).toBe(0);
    expect(readdirSync(reports).sort()).toEqual([
      expect.stringMatching(/^weekly-\d{4}-W\d{2}\.json$/),
      expect.stringMatching(/^weekly-\d{4}-W\d{2}\.md$/),
    ]);

    // 6. The restored views fire on new rows, once each.
    await post(copy, 'feature_events', ndjson([event({ event_id: 'after_restore', user_id: 'new_user' })]));
    const [rollup] = await copy.sql<{ raw: string; hourly: string; by_user: string }>(
      'SELECT (SELECT count() FROM feature_events) AS raw, (SELECT sum(events) FROM feature_usage_hourly) AS hourly, (SELECT sum(events) FROM feature_usage_by_user) AS by_user',
    );
    expect(numbers(rollup)).toEqual({ raw: 4041, hourly: 4041, by_user: 4041 });
    await post(copy, 'page_views', ndjson(views.slice(0, 5)));
    const [pages] = await copy.sql<{ raw: string; mv: string }>(
      'SELECT (SELECT count() FROM page_views) AS raw, (SELECT countMerge(views) FROM daily_page_stats) AS mv',
    );
    expect(numbers(pages)).toEqual({ raw: 55, mv: 55 });
  }, 900_000);
});
