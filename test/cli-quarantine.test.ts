import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { afterAll, describe, expect, it } from 'vitest';
import { REPLAY_STEPS } from '../src/quarantine/steps.js';
import { errorLine, runCli } from './helpers/cli.js';
import {
  event,
  freePort,
  ndjson,
  postEvents,
  type ServiceProcess,
  startServiceProcess,
} from './helpers/service.js';

// `quarantine list` and `quarantine replay` against a real store: rows whose cause was fixed
// are stored exactly once, even when replay is killed after each of its steps in turn and
// run again; rows still bad stay quarantined with their current reason.
const dataDir = mkdtempSync(join(tmpdir(), 'fe-quarantine-'));
const TOKEN = 'quarantine-admin-token';
const env = { DATA_DIR: dataDir };
let svc: ServiceProcess | undefined;
afterAll(async () => {
  await svc?.stop();
});

const FIXED = 12; // quarantined by an older rule; valid today
const CHANGED = 3; // still bad, for another reason than the one recorded
const sqlString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

async function withService<T>(fn: (svc: ServiceProcess, sql: ClickHouseClient) => Promise<T>): Promise<T> {
  const sqlPort = await freePort();
  svc = await startServiceProcess({
    dataDir,
    env: {
      TB_ADMIN_TOKEN: TOKEN,
      CLICKHOUSE_HTTP_PORT: String(sqlPort),
      CLICKHOUSE_HTTP_MODE: 'unsafe-writable-for-tests',
    },
  });
  const sql = createClient({ url: `http://127.0.0.1:${sqlPort}`, password: TOKEN });
  try {
    return await fn(svc, sql);
  } finally {
    await sql.close();
    await svc.stop();
    svc = undefined;
  }
}

const num = async (sql: ClickHouseClient, query: string) =>
  Number((await (await sql.query({ query, format: 'JSONEachRow' })).json<{ n: string }>())[0]?.n);

describe('quarantine list and replay', () => {
  it('lists, then replays exactly once through kills after every step', async () => {
    await withService(async (s, sql) => {
      // Bad today, for the reason recorded at ingest: replay leaves them alone.
      const bad = [1, 2, 3].map((i) => ({ event_id: `still_bad_${i}`, user_id: 'u' }));
      const res = await postEvents(s, ndjson(bad));
      expect(await res.json()).toEqual({ successful_rows: 0, quarantined_rows: 3, redacted_rows: 0 });
      // What an older validator refused (seeded through SQL: the cause is "fixed" in this code).
      const fixed = Array.from({ length: FIXED }, (_, i) =>
        event({ event_id: `fixed_${i}`, user_id: `fixed_user_${i % 4}`, timestamp: '2026-03-04 05:06:07' }),
      );
      const changed = Array.from({ length: CHANGED }, (_, i) => ({ event_id: `changed_${i}`, user_id: 'u' }));
      const values = [...fixed, ...changed]
        .map(
          (r, i) => `(${sqlString(JSON.stringify(r))}, ['timestamp'], ['an older rule'], now() - ${100 - i})`,
        )
        .join(', ');
      await sql.command({
        query: `INSERT INTO feature_events_quarantine (raw, c__error_column, c__error, insertion_date) VALUES ${values}`,
      });
    });

    const listed = await runCli(['quarantine', 'list', '--json', '--limit', '100'], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stderr).toMatch(/^18 rows in quarantine; showing 18$/m);
    const rows = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { raw: string; c__error: string[] });
    expect(rows.filter((r) => r.raw.includes('still_bad_'))[0]?.c__error.join('; ')).toMatch(
      /feature_id: required/,
    );

    // Killed (SIGKILL) after each step in turn: claim, then events stored, then quarantine
    // rows stored, then the batch marked done. Each run first finishes what the last left.
    for (const step of REPLAY_STEPS) {
      const run = await runCli(['quarantine', 'replay', '--batch-rows', '5', '--crash-after', step], env);
      expect(run.signal, `${step}: ${run.stderr}`).toBe('SIGKILL');
    }
    const done = await runCli(['quarantine', 'replay', '--batch-rows', '5'], env);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toMatch(/replay: \d+ rows examined/);
    const again = await runCli(['quarantine', 'replay'], env);
    expect(again.code, again.stderr).toBe(0);
    // Everything replayed is out of quarantine; what is left fails as it did.
    expect(again.stdout).toMatch(
      /^replayed: 0 stored, 0 quarantined again with a new reason, 6 still failing/,
    );

    const after = await runCli(['quarantine', 'list', '--json', '--limit', '100'], env);
    const left = after.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { raw: string; c__error: string[] });
    expect(left).toHaveLength(3 + CHANGED);
    for (const r of left.filter((r) => r.raw.includes('changed_')))
      expect(r.c__error.join('; ')).toMatch(/^feature_id: required; product_version: required/);
    const all = await runCli(['quarantine', 'list', '--all', '--limit', '100'], env);
    expect(all.stdout.match(/\[stored\]/g)).toHaveLength(FIXED);
    expect(all.stdout.match(/\[requarantined\]/g)).toHaveLength(CHANGED);

    await withService(async (_, sql) => {
      expect(
        await num(sql, "SELECT count() AS n FROM feature_events WHERE startsWith(event_id, 'fixed_')"),
      ).toBe(FIXED);
      expect(
        await num(
          sql,
          "SELECT uniqExact(event_id) AS n FROM feature_events WHERE startsWith(event_id, 'fixed_')",
        ),
      ).toBe(FIXED);
      // The rollups saw each replayed row once too (the views share the inserts' tokens).
      expect(
        await num(
          sql,
          "SELECT sum(events) AS n FROM feature_usage_by_user WHERE startsWith(user_id, 'fixed_user_')",
        ),
      ).toBe(FIXED);
      expect(
        await num(
          sql,
          "SELECT count() AS n FROM feature_events_quarantine WHERE position(raw, 'changed_') > 0",
        ),
      ).toBe(CHANGED * 2); // the originals (replayed) and their new rows, once each
    });
  }, 600_000);

  it('refuses, in one line naming the process, while the service has DATA_DIR open', async () => {
    await withService(async (s) => {
      const run = await runCli(['quarantine', 'list'], env);
      expect(run.code).toBe(1);
      expect(errorLine(run)).toMatch(
        new RegExp(
          `^feature-events quarantine list: DATA_DIR=.* is open in process ${s.proc.pid} .*stop the service`,
        ),
      );
    });
  }, 120_000);
});
