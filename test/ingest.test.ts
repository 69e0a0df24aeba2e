import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, ndjson, type ServiceProcess, startServiceProcess } from './helpers/service.js';

// The write path through HTTP, against the real service process on embedded chDB.
let svc: ServiceProcess;
const APPEND_TOKEN = 'append-only-token';
const PIPE_TOKEN = 'pipe-only-token';

beforeAll(async () => {
  svc = await startServiceProcess({
    env: {
      TB_TOKENS: `appender:${APPEND_TOKEN}:DATASOURCES:APPEND:feature_events;reader:${PIPE_TOKEN}:PIPES:READ:user_feature_usage`,
      BATCH_MAX_WAIT_MS: '50',
    },
  });
});
afterAll(async () => {
  expect(await svc?.stop()).toBe(0);
});

const post = (body: BodyInit | undefined, opts: { query?: string; headers?: Record<string, string> } = {}) =>
  fetch(`${svc.baseUrl}/v0/events?${opts.query ?? 'name=feature_events'}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${svc.token}`, ...opts.headers },
    body,
  });

const count = async (where: string) =>
  Number((await svc.sql<{ c: number }>(`SELECT count() AS c FROM feature_events WHERE ${where}`))[0]?.c);

describe('POST /v0/events', () => {
  it('accepts the seed example (a pretty-printed object sent with curl -d) and stores it', async () => {
    const body = `{
       "event_id": "evt_seed",
       "user_id": "usr_789",
       "feature_id": "feature_recommendations",
       "product_version": "2.4.1",
       "event_type": "feature_used",
       "timestamp": "2023-10-15 14:35:22",
       "session_id": "sess_456",
       "metadata": "{\\"duration_seconds\\":45,\\"result\\":\\"success\\"}"
     }`;
    const res = await post(body, {
      query: 'name=feature_events&wait=true',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ successful_rows: 1, quarantined_rows: 0, redacted_rows: 0 });
    const rows = await svc.sql(
      "SELECT user_id, feature_id, product_version, event_type, toString(timestamp) AS ts, session_id, metadata FROM feature_events WHERE event_id = 'evt_seed'",
    );
    expect(rows).toEqual([
      {
        user_id: 'usr_789',
        feature_id: 'feature_recommendations',
        product_version: '2.4.1',
        event_type: 'feature_used',
        ts: '2023-10-15 14:35:22',
        session_id: 'sess_456',
        metadata: '{"duration_seconds":45,"result":"success"}',
      },
    ]);
  });

  it('replies 202 without wait, and the rows arrive shortly after', async () => {
    const res = await post(JSON.stringify(event({ event_id: 'evt_202' })));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ successful_rows: 1, quarantined_rows: 0, redacted_rows: 0 });
    for (let i = 0; i < 100 && (await count("event_id = 'evt_202'")) === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(await count("event_id = 'evt_202'")).toBe(1);
  });

  it('takes NDJSON with blank lines, CRLF and no trailing newline, with the token in ?token=', async () => {
    const rows = Array.from({ length: 500 }, (_, i) => event({ event_id: `nd_${i}`, user_id: `u${i % 7}` }));
    const body = `${ndjson(rows.slice(0, 250))}\r\n\n${ndjson(rows.slice(250))}`;
    const res = await fetch(`${svc.baseUrl}/v0/events?name=feature_events&wait=true&token=${svc.token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-ndjson' },
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ successful_rows: 500, quarantined_rows: 0, redacted_rows: 0 });
    expect(await count("startsWith(event_id, 'nd_')")).toBe(500);
  });

  it('stores the good rows of a mixed request and quarantines the bad ones with their reason', async () => {
    const body = [
      JSON.stringify(event({ event_id: 'mix_ok_1' })),
      '{"event_id": "mix_truncated", "user_id": ',
      JSON.stringify(event({ event_id: 'mix_bad_ts', timestamp: '15/10/2023' })),
      JSON.stringify({ ...event({ event_id: 'mix_no_user' }), user_id: undefined }),
      JSON.stringify(
        event({ event_id: 'mix_ok_2', timestamp: '2023-10-15T16:35:22+02:00', metadata: { a: 1 } }),
      ),
      '[1,2,3]',
    ].join('\n');
    const res = await post(body, { query: 'name=feature_events&wait=true' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ successful_rows: 2, quarantined_rows: 4, redacted_rows: 0 });
    expect(await count("event_id IN ('mix_ok_1', 'mix_ok_2')")).toBe(2);
    const ok2 = await svc.sql(
      "SELECT toString(timestamp) AS ts, metadata FROM feature_events WHERE event_id = 'mix_ok_2'",
    );
    expect(ok2).toEqual([{ ts: '2023-10-15 14:35:22', metadata: '{"a":1}' }]);
    const q = await svc.sql<{ event_id: string | null; c__error_column: string[]; c__error: string[] }>(
      "SELECT event_id, c__error_column, c__error FROM feature_events_quarantine WHERE raw LIKE '%mix_%' ORDER BY event_id",
    );
    expect(q).toHaveLength(3);
    expect(q.find((r) => r.event_id === 'mix_bad_ts')?.c__error_column).toEqual(['timestamp']);
    expect(q.find((r) => r.event_id === 'mix_no_user')?.c__error).toEqual(['user_id: required']);
    expect(q.find((r) => r.event_id === null)?.c__error[0]).toMatch(/not valid JSON/);
  });

  it('stores account_id when sent and "" when a Tinybird client does not know the column', async () => {
    const body = [
      JSON.stringify(event({ event_id: 'acc_tb' })), // the seed's eight columns, canonical line
      JSON.stringify(event({ event_id: 'acc_set', account_id: 'acme' })),
      JSON.stringify(event({ event_id: 'acc_num', account_id: 42 })),
      JSON.stringify({ account_id: 'first', ...event({ event_id: 'acc_first' }) }),
      JSON.stringify(event({ event_id: 'acc_bad', account_id: { id: 1 } })),
      JSON.stringify(event({ event_id: 'acc_long', account_id: 'a'.repeat(513) })),
    ].join('\n');
    const res = await post(body, { query: 'name=feature_events&wait=true' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ successful_rows: 4, quarantined_rows: 2, redacted_rows: 0 });
    expect(
      await svc.sql(
        "SELECT event_id, account_id FROM feature_events WHERE startsWith(event_id, 'acc_') ORDER BY event_id",
      ),
    ).toEqual([
      { event_id: 'acc_first', account_id: 'first' },
      { event_id: 'acc_num', account_id: '42' },
      { event_id: 'acc_set', account_id: 'acme' },
      { event_id: 'acc_tb', account_id: '' },
    ]);
    const q = await svc.sql(
      "SELECT event_id, account_id, c__error_column FROM feature_events_quarantine WHERE event_id IN ('acc_bad', 'acc_long') ORDER BY event_id",
    );
    expect(q).toEqual([
      { event_id: 'acc_bad', account_id: '{"id":1}', c__error_column: ['account_id'] },
      { event_id: 'acc_long', account_id: 'a'.repeat(513), c__error_column: ['account_id'] },
    ]);
  });

  it('accepts gzip, by header and by magic bytes', async () => {
    const gz = gzipSync(ndjson([event({ event_id: 'gz_1' }), event({ event_id: 'gz_2' })]));
    const a = await post(gz, {
      query: 'name=feature_events&wait=true',
      headers: { 'Content-Encoding': 'gzip' },
    });
    expect(a.status).toBe(200);
    const gz2 = gzipSync(JSON.stringify(event({ event_id: 'gz_3' })));
    const b = await post(gz2, { query: 'name=feature_events&wait=true' });
    expect(b.status).toBe(200);
    expect(await count("startsWith(event_id, 'gz_')")).toBe(3);
  });

  it('answers 400 for broken gzip, 415 for an unknown encoding', async () => {
    const broken = gzipSync(JSON.stringify(event())).subarray(0, 15);
    const res = await post(broken, { headers: { 'Content-Encoding': 'gzip' } });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/gzip/);
    const br = await post('x', { headers: { 'Content-Encoding': 'br' } });
    expect(br.status).toBe(415);
  });

  it('answers 400 for an empty body and for a missing name', async () => {
    const empty = await post('');
    expect(empty.status).toBe(400);
    expect((await empty.json()).error).toMatch(/Empty body/);
    const blank = await post('\n\n  \n');
    expect(blank.status).toBe(400);
    const noName = await post(JSON.stringify(event()), { query: '' });
    expect(noName.status).toBe(400);
    expect((await noName.json()).error).toMatch(/"name"/);
  });

  it('answers 401 without a token, 403 for a wrong token or scope, 404 for an unknown datasource', async () => {
    const body = JSON.stringify(event());
    const none = await fetch(`${svc.baseUrl}/v0/events?name=feature_events`, { method: 'POST', body });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: expect.stringMatching(/token/i) });
    const wrong = await post(body, { headers: { Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(403);
    const reader = await post(body, { headers: { Authorization: `Bearer ${PIPE_TOKEN}` } });
    expect(reader.status).toBe(403);
    expect((await reader.json()).error).toMatch(/DATASOURCES:APPEND:feature_events/);
    const unknown = await post(body, { query: 'name=other_events' });
    expect(unknown.status).toBe(404);
  });

  it('keeps the keep-alive connection after refusing a request whose body it did not need', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (token: string, body: string) =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = http.request(
          `${svc.baseUrl}/v0/events?name=feature_events`,
          { method: 'POST', agent, headers: { Authorization: `Bearer ${token}` } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    // About 9 MB (under the 10 MB limit), refused by auth before it is read: Node closes a
    // connection whose unread body is this large. Then a good request on the same socket.
    const big = ndjson(Array.from({ length: 36_000 }, (_, i) => event({ event_id: `ka_${i}` })));
    expect(await send('wrong-token', big)).toEqual({ status: 403, reused: false });
    const after = await send(svc.token, JSON.stringify(event({ event_id: 'ka_after' })));
    expect(after).toEqual({ status: 202, reused: true });
    agent.destroy();
  });

  it('lets a token scoped to append write, and nothing else', async () => {
    const ok = await post(JSON.stringify(event({ event_id: 'scoped_1' })), {
      query: 'name=feature_events&wait=true',
      headers: { Authorization: `Bearer ${APPEND_TOKEN}` },
    });
    expect(ok.status).toBe(200);
    const sql = await fetch(`${svc.baseUrl}/v0/sql?q=SELECT%201&token=${APPEND_TOKEN}`);
    expect(sql.status).toBe(403);
  });

  it('answers 413 for a body over 10 MB, and stores nothing of it', async () => {
    const row = JSON.stringify(event({ event_id: 'big_x' }));
    const body = `${row}\n`.repeat(Math.ceil((10 * 1024 * 1024 + 1) / (row.length + 1)));
    const res = await post(body);
    expect(res.status).toBe(413);
    expect((await res.json()).error).toMatch(/larger than/);
    expect(await count("event_id = 'big_x'")).toBe(0);
  });

  it('answers CORS preflight for browser trackers', async () => {
    const res = await fetch(`${svc.baseUrl}/v0/events?name=feature_events`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    // ...and the actual request's reply carries the header too (and errors do).
    const posted = await post(JSON.stringify(event({ event_id: 'cors_1' })));
    expect(posted.status).toBe(202);
    expect(posted.headers.get('access-control-allow-origin')).toBe('*');
    const denied = await fetch(`${svc.baseUrl}/v0/events?name=feature_events`, {
      method: 'POST',
      body: '{}',
    });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('stores a batch spanning ten years of months in one insert, one part per month', async () => {
    const rows = Array.from({ length: 120 }, (_, i) =>
      event({
        event_id: `span_${i}`,
        timestamp: `${2015 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-10 10:00:00`,
      }),
    );
    const res = await post(ndjson(rows), { query: 'name=feature_events&wait=true' });
    expect(res.status).toBe(200);
    expect(await count("startsWith(event_id, 'span_')")).toBe(120);
    // Monthly partitions (migration 010, so retention drops whole parts): the one insert wrote
    // into each of the 120 months, within max_partitions_per_insert_block (docs/operations.md).
    const parts = await svc.sql<{ p: number }>(
      "SELECT uniqExact(_partition_id) AS p FROM feature_events WHERE startsWith(event_id, 'span_')",
    );
    expect(Number(parts[0]?.p)).toBe(120);
  });

  it('serves read-only SQL to admin tokens, as curl --data-binary or ?q=, and refuses writes', async () => {
    const raw = await fetch(`${svc.baseUrl}/v0/sql?token=${svc.token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: "SELECT count() AS c FROM feature_events WHERE event_id = 'evt_seed' FORMAT JSONEachRow",
    });
    expect(await raw.text()).toBe('{"c":1}\n');
    const get = await fetch(
      `${svc.baseUrl}/v0/sql?token=${svc.token}&q=${encodeURIComponent('SELECT 1 AS one')}`,
    );
    expect((await get.json()).data).toEqual([{ one: 1 }]);
    const write = await fetch(`${svc.baseUrl}/v0/sql?token=${svc.token}`, {
      method: 'POST',
      body: 'DROP TABLE feature_events',
    });
    expect(write.status).toBe(403);
    expect((await write.json()).error).toMatch(/only SELECT/);
  });

  it('keeps /v0/sql away from host files, the network and INTO OUTFILE', async () => {
    const run = (q: string) =>
      fetch(`${svc.baseUrl}/v0/sql?token=${svc.token}`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: q,
      });
    for (const q of [
      "SELECT * FROM file('/etc/passwd', 'LineAsString')",
      "SELECT * FROM file /* hidden */ ('/etc/passwd', 'LineAsString')",
      "SELECT file('/etc/passwd')",
      "SELECT 1 FROM system.one WHERE 1 IN (SELECT 1 FROM url('http://127.0.0.1:1/', 'LineAsString'))",
      "SELECT 1 INTO OUTFILE '/tmp/fe-outfile-test.txt'",
      "SELECT * FROM remote('127.0.0.1', system.one)",
    ]) {
      const res = await run(q);
      expect(res.status, q).toBe(403);
      expect((await res.json()).error).toMatch(/not allowed/);
    }
    const ok = await run('SELECT sum(number) AS s FROM numbers(10) FORMAT JSONEachRow');
    expect(await ok.text()).toBe('{"s":45}\n');
  });

  it('reports liveness and readiness', async () => {
    const health = await fetch(`${svc.baseUrl}/v0/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', ready: true });
    expect((await fetch(`${svc.baseUrl}/v0/ready`)).status).toBe(200);
  });
});
