import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, ndjson, type ServiceProcess, startServiceProcess } from './helpers/service.js';

// /v0/sql is read-only for every request, including the first one a process answers (a
// reader session used to become read-only only with its first query, after the guard had
// already run the text). Each hostile text is sent as the very first request of a fresh
// service process, then again to a warm one through every transport; every table, view,
// row count and the files around must stay as they were.

const OUT = mkdtempSync(join(tmpdir(), 'fe-sql-out-'));
const HOSTILE: string[] = [
  // more than one statement, in every spelling
  'SELECT 1; DROP TABLE feature_usage_hourly_mv',
  'SELECT 1;DROP TABLE feature_events',
  'SELECT 1\n;\nDROP TABLE feature_events',
  'SELECT 1 -- comment\n; DROP TABLE feature_events',
  'SELECT 1 /* ; */ ; DROP TABLE feature_events',
  "SELECT ';' ; DROP TABLE feature_events",
  'SELECT 1; DROP TABLE feature_events; SELECT 1',
  'SELECT 1 FORMAT JSON; DROP TABLE feature_events',
  'SELECT 1;\tTRUNCATE TABLE feature_events',
  'DROP TABLE feature_events; SELECT 1',
  ';DROP TABLE feature_events',
  'SELECT 1 # comment\n; DROP TABLE feature_events',
  'SELECT $$;$$; DROP TABLE feature_events',
  "SELECT 'it''s'; DROP TABLE feature_events",
  "SELECT 1; INSERT INTO feature_events (event_id, user_id) VALUES ('x', 'y')",
  'SELECT 1; ALTER TABLE feature_events DELETE WHERE 1',
  'SELECT 1; SET readonly = 0; DROP TABLE feature_events',
  'SELECT 1 ; ; DROP TABLE feature_events',
  'select 1;drop table feature_usage_by_user_mv',
  'SELECT 1;\r\nDROP TABLE feature_events',
  'SELECT 1;\u00a0DROP TABLE feature_events',
  'SELECT 1 FORMAT CSV;\nDROP DATABASE default',
  'SELECT 1; SYSTEM STOP MERGES',
  'SELECT 1\0; DROP TABLE feature_events',
  // DDL
  'DROP TABLE feature_events',
  'DROP TABLE IF EXISTS feature_usage_hourly_mv',
  'TRUNCATE TABLE feature_events',
  'DROP DATABASE default',
  'CREATE TABLE x (a UInt8) ENGINE = Memory',
  'CREATE TEMPORARY TABLE x (a UInt8)',
  'ALTER TABLE feature_events DROP COLUMN metadata',
  'RENAME TABLE feature_events TO fe_old',
  'DETACH TABLE feature_usage_hourly_mv',
  'OPTIMIZE TABLE feature_events FINAL',
  'CREATE VIEW v AS SELECT 1',
  'EXCHANGE TABLES feature_events AND feature_events_quarantine',
  // DML
  "INSERT INTO feature_events (event_id, user_id) VALUES ('x', 'y')",
  'INSERT INTO feature_events SELECT * FROM feature_events',
  'ALTER TABLE feature_events DELETE WHERE 1',
  "ALTER TABLE feature_events UPDATE user_id = 'x' WHERE 1",
  'DELETE FROM feature_events WHERE 1',
  // SYSTEM, KILL, SET
  'SYSTEM STOP MERGES',
  'SYSTEM DROP MARK CACHE',
  'SYSTEM SHUTDOWN',
  'KILL QUERY WHERE 1',
  'KILL MUTATION WHERE 1',
  'SET readonly = 0',
  'SET max_execution_time = 0',
  'USE system',
  // settings that would lift readonly or the limits
  'SELECT 1 SETTINGS readonly = 0',
  'SELECT count() FROM feature_events SETTINGS readonly = 0, max_execution_time = 0',
  'WITH 1 AS x SELECT x SETTINGS max_result_bytes = 0',
  'SELECT 1 SETTINGS max_memory_usage = 0',
  "INSERT INTO feature_events (event_id) SETTINGS readonly = 0 VALUES ('x')",
  // table functions that reach files or the network
  "SELECT * FROM file('/etc/passwd', 'LineAsString')",
  "SELECT * FROM FiLe('/etc/passwd', 'LineAsString')",
  "SELECT file('/etc/passwd')",
  "SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')",
  "SELECT * FROM remote('127.0.0.1', system.one)",
  "SELECT * FROM s3('http://127.0.0.1:1/x', 'CSV')",
  "SELECT * FROM mysql('127.0.0.1:1', 'db', 't', 'u', 'p')",
  "SELECT * FROM executable('ls', 'LineAsString', 'x String')",
  "SELECT * FROM feature_events WHERE user_id IN (SELECT * FROM file('/etc/passwd', 'LineAsString'))",
  `INSERT INTO FUNCTION file('${OUT}/f.csv') SELECT 1`,
  // INTO OUTFILE
  `SELECT * FROM feature_events INTO OUTFILE '${OUT}/out.csv'`,
  `SELECT 1 INTO OUTFILE '${OUT}/out2.csv' FORMAT CSV`,
  `SELECT 1 INTO OUTFILE '${OUT}/out3.csv' TRUNCATE`,
  `SHOW TABLES INTO OUTFILE '${OUT}/out4.txt'`,
  // other statements
  `BACKUP TABLE feature_events TO File('${OUT}/backup')`,
  'GRANT ALL ON *.* TO default',
  'CREATE USER intruder',
];

type Transport = 'get' | 'post' | 'form';
const TRANSPORTS: Transport[] = ['get', 'post', 'form'];

async function send(
  svc: ServiceProcess,
  text: string,
  how: Transport,
): Promise<{ status: number; body: string }> {
  const url = `${svc.baseUrl}/v0/sql`;
  const auth = { Authorization: `Bearer ${svc.token}` };
  const res =
    how === 'get'
      ? await fetch(`${url}?q=${encodeURIComponent(text)}`, { headers: auth })
      : how === 'post'
        ? await fetch(url, { method: 'POST', headers: { ...auth, 'Content-Type': 'text/plain' }, body: text })
        : await fetch(url, { method: 'POST', headers: auth, body: new URLSearchParams({ q: text }) });
  return { status: res.status, body: await res.text() };
}

/** Everything a write could change: tables and views with their engines and row counts, and the files around. */
async function state(svc: ServiceProcess): Promise<unknown> {
  const tables = await svc.sql(
    "SELECT database, name, engine, total_rows, create_table_query FROM system.tables WHERE database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema') ORDER BY database, name",
  );
  const counts = await svc.sql(
    'SELECT (SELECT count() FROM feature_events) AS events, (SELECT count() FROM feature_events_quarantine) AS quarantined, (SELECT sum(events) FROM feature_usage_hourly) AS hourly_events, (SELECT count() FROM feature_usage_by_user) AS by_user_rows',
  );
  const files = ['f.csv', 'out.csv', 'out2.csv', 'out3.csv', 'out4.txt', 'backup'].filter((f) =>
    existsSync(join(OUT, f)),
  );
  return { tables, counts, files };
}

let dataDir: string;
let baseline: unknown;

beforeAll(async () => {
  const svc = await startServiceProcess();
  dataDir = svc.dataDir;
  const rows = Array.from({ length: 50 }, (_, i) => event({ event_id: `e${i}`, user_id: `u${i % 7}` }));
  const res = await fetch(`${svc.baseUrl}/v0/events?name=feature_events&wait=true`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${svc.token}` },
    body: ndjson(rows),
  });
  expect(res.status).toBe(200);
  baseline = await state(svc);
  expect(baseline).toMatchObject({ counts: [{ events: 50 }] });
  await svc.stop();
}, 120_000);

afterAll(async () => {
  // nothing left running: each test stops its own process
});

describe('/v0/sql cannot write', () => {
  it(`refuses each of ${HOSTILE.length} hostile texts as the first request of a fresh process`, async () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(50);
    for (const [i, text] of HOSTILE.entries()) {
      const svc = await startServiceProcess({ dataDir });
      try {
        const how = TRANSPORTS[i % TRANSPORTS.length] as Transport;
        const answer = await send(svc, text, how);
        expect([400, 403], `${how} ${JSON.stringify(text)}: ${answer.body}`).toContain(answer.status);
        expect(JSON.parse(answer.body)).toHaveProperty('error');
        expect(await state(svc), `after ${how} ${JSON.stringify(text)}`).toEqual(baseline);
      } finally {
        await svc.kill();
      }
    }
  }, 600_000);

  it('refuses them all in a warm process, through GET, POST body and form', async () => {
    const svc = await startServiceProcess({ dataDir });
    try {
      expect((await send(svc, 'SELECT count() AS c FROM feature_events', 'get')).status).toBe(200);
      for (const text of HOSTILE) {
        for (const how of TRANSPORTS) {
          const answer = await send(svc, text, how);
          expect([400, 403], `${how} ${JSON.stringify(text)}: ${answer.body}`).toContain(answer.status);
        }
      }
      expect(await state(svc)).toEqual(baseline);
      // and it still answers reads, in the format asked for
      const read = await send(svc, 'SELECT count() AS c FROM feature_events FORMAT CSV', 'post');
      expect(read).toEqual({ status: 200, body: '50\n' });
    } finally {
      await svc.stop();
    }
  }, 300_000);
});
