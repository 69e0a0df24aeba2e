import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  event,
  freePort,
  ndjson,
  postEvents,
  type ServiceProcess,
  startServiceProcess,
} from './helpers/service.js';

// The ClickHouse HTTP interface over the embedded store (src/sql-http), driven by the
// official client and by curl, as a SQL user would.

const SQL_TOKEN = 'sql-user-token-0123456789';
const PIPE_TOKEN = 'pipe-only-token-0123456789';
const run = promisify(execFile);

let svc: ServiceProcess;
let sqlUrl: string;
let client: ClickHouseClient;

beforeAll(async () => {
  const sqlPort = await freePort();
  svc = await startServiceProcess({
    env: {
      CLICKHOUSE_HTTP_PORT: String(sqlPort),
      TB_TOKENS: `analyst:${SQL_TOKEN}:SQL:READ;dash:${PIPE_TOKEN}:PIPES:READ:top_features`,
    },
  });
  sqlUrl = `http://127.0.0.1:${sqlPort}`;
  const rows = [
    ...Array.from({ length: 5 }, (_, i) =>
      event({ event_id: `a${i}`, user_id: 'usr_a', account_id: 'acc_1' }),
    ),
    ...Array.from({ length: 3 }, (_, i) =>
      event({ event_id: `b${i}`, user_id: "usr_o'b\\x", account_id: 'acc_2' }),
    ),
  ];
  expect((await postEvents(svc, ndjson(rows))).status).toBe(200);
  client = createClient({ url: sqlUrl, username: 'analyst', password: SQL_TOKEN });
});

afterAll(async () => {
  await client?.close();
  await svc?.stop();
});

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'no error';
  } catch (err) {
    const e = err as { code?: string; type?: string };
    return `${e.code} ${e.type}`;
  }
};

describe('@clickhouse/client against the embedded store', () => {
  it('pings', async () => {
    expect((await client.ping()).success).toBe(true);
  });

  it('runs a query with bound parameters in JSON', async () => {
    const rs = await client.query({
      query:
        'SELECT user_id, count() AS n FROM feature_events WHERE account_id = {acc:String} GROUP BY user_id',
      query_params: { acc: 'acc_2' },
      format: 'JSON',
    });
    const body = await rs.json<{ user_id: string; n: number }>();
    expect(body.data).toEqual([{ user_id: "usr_o'b\\x", n: 3 }]);
    expect(body.meta?.map((m) => m.name)).toEqual(['user_id', 'n']);
  });

  it('binds any string and array of strings exactly as sent', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme' }),
        fc.array(fc.string(), { maxLength: 3 }),
        async (s, a) => {
          const rs = await client.query({
            query: 'SELECT {s:String} AS s, {a:Array(String)} AS a',
            query_params: { s, a },
            format: 'JSONEachRow',
          });
          expect(await rs.json()).toEqual([{ s, a }]);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('streams JSONEachRow rows', async () => {
    const rs = await client.query({
      query: 'SELECT event_id FROM feature_events ORDER BY event_id',
      format: 'JSONEachRow',
    });
    const ids: string[] = [];
    for await (const rows of rs.stream<{ event_id: string }>())
      for (const row of rows) ids.push(row.json().event_id);
    expect(ids).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2']);
  });

  it('answers compressed when asked, and reads a compressed request', async () => {
    const zipped = createClient({
      url: sqlUrl,
      username: 'analyst',
      password: SQL_TOKEN,
      compression: { request: true, response: true },
    });
    try {
      const rs = await zipped.query({
        query: 'SELECT count() AS n FROM feature_events',
        format: 'JSONEachRow',
      });
      expect(await rs.json()).toEqual([{ n: 8 }]);
    } finally {
      await zipped.close();
    }
  });

  it('refuses writes, DDL, settings and file or network access, as ClickHouse refuses a readonly user', async () => {
    expect(
      await codeOf(client.insert({ table: 'feature_events', values: [event()], format: 'JSONEachRow' })),
    ).toBe('164 READONLY');
    expect(await codeOf(client.command({ query: 'DROP TABLE feature_events' }))).toBe('164 READONLY');
    expect(await codeOf(client.command({ query: 'TRUNCATE TABLE feature_events' }))).toBe('164 READONLY');
    expect(
      await codeOf(client.query({ query: "SELECT * FROM url('http://127.0.0.1:1/x', CSV, 'a String')" })),
    ).toBe('497 ACCESS_DENIED');
    expect(await codeOf(client.query({ query: "SELECT * FROM file('/etc/passwd', CSV, 'a String')" }))).toBe(
      '497 ACCESS_DENIED',
    );
    expect(
      await codeOf(client.query({ query: 'SELECT 1', clickhouse_settings: { max_execution_time: 1000 } })),
    ).toBe('164 READONLY');
    expect(await codeOf(client.query({ query: 'SELECT 1; DROP TABLE feature_events' }))).toBe(
      '62 SYNTAX_ERROR',
    );
    const rows = await (
      await client.query({ query: 'SELECT count() AS n FROM feature_events', format: 'JSONEachRow' })
    ).json<{ n: number }>();
    expect(rows).toEqual([{ n: 8 }]);
  });

  it('refuses a wrong password and a token without SQL:READ', async () => {
    for (const password of ['wrong', PIPE_TOKEN]) {
      const other = createClient({ url: sqlUrl, username: 'analyst', password });
      try {
        expect(await codeOf(other.query({ query: 'SELECT 1' }))).toBe('516 AUTHENTICATION_FAILED');
      } finally {
        await other.close();
      }
    }
  });

  it('lets the admin token in too', async () => {
    const admin = createClient({ url: sqlUrl, password: svc.token });
    try {
      expect(await (await admin.query({ query: 'SELECT 1 AS one', format: 'JSONEachRow' })).json()).toEqual([
        { one: 1 },
      ]);
    } finally {
      await admin.close();
    }
  });
});

describe('curl against the embedded store', () => {
  const curl = async (...args: string[]) => {
    const { stdout } = await run('curl', ['-s', '-i', ...args]);
    const [head = '', ...rest] = stdout.split('\r\n\r\n');
    const [statusLine = '', ...lines] = head.split('\r\n');
    const headers = new Map(
      lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    );
    return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
  };

  it('GET /?query= with X-ClickHouse-User/Key answers TabSeparated with ClickHouse headers', async () => {
    const r = await curl(
      '-H',
      'X-ClickHouse-User: analyst',
      '-H',
      `X-ClickHouse-Key: ${SQL_TOKEN}`,
      `${sqlUrl}/?query=${encodeURIComponent('SELECT count() FROM feature_events WHERE user_id = {u:String}')}&param_u=usr_a`,
    );
    expect(r.status).toBe(200);
    expect(r.body).toBe('5\n');
    expect(r.headers.get('x-clickhouse-format')).toBe('TabSeparated');
    expect(r.headers.get('x-clickhouse-query-id')).toMatch(/\w+/);
    expect(JSON.parse(r.headers.get('x-clickhouse-summary') ?? '{}')).toHaveProperty('read_rows');
  });

  it('POST with the query as the body, basic auth and default_format', async () => {
    const r = await curl(
      '-u',
      `analyst:${SQL_TOKEN}`,
      '--data-binary',
      'SELECT account_id, count() AS n FROM feature_events GROUP BY account_id ORDER BY account_id',
      `${sqlUrl}/?default_format=JSONCompactEachRow`,
    );
    expect(r.status).toBe(200);
    expect(r.body).toBe('["acc_1", 5]\n["acc_2", 3]\n');
    expect(r.headers.get('x-clickhouse-format')).toBe('JSONCompactEachRow');
  });

  it('X-ClickHouse-Format and gzip with enable_http_compression=1', async () => {
    const { stdout } = await run(
      'curl',
      [
        '-s',
        '-H',
        'Accept-Encoding: gzip',
        '-H',
        'X-ClickHouse-Format: CSV',
        '-u',
        `analyst:${SQL_TOKEN}`,
        `${sqlUrl}/?enable_http_compression=1&query=${encodeURIComponent('SELECT 1, 2')}`,
      ],
      { encoding: 'buffer' },
    );
    expect(gunzipSync(stdout).toString()).toBe('1,2\n');
  });

  it('/ping, and an exception as ClickHouse sends it', async () => {
    expect((await curl(`${sqlUrl}/ping`)).body).toBe('Ok.\n');
    const r = await curl('-u', `analyst:${SQL_TOKEN}`, '--data-binary', 'SELEC 1', `${sqlUrl}/`);
    expect(r.status).toBe(400);
    expect(r.headers.get('x-clickhouse-exception-code')).toBe('62');
    expect(r.body).toMatch(/^Code: 62\. DB::Exception: .*\(SYNTAX_ERROR\) \(version [\d.]+/);
    const none = await curl(`${sqlUrl}/?query=SELECT%201`);
    expect([none.status, none.headers.get('x-clickhouse-exception-code')]).toEqual([401, '194']);
  });
});
