import { gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTokens } from '../src/http/local-tokens.js';
import { UNLIMITED } from '../src/http/rate-limit.js';
import { event, ndjson, postEvents, type ServiceProcess, startServiceProcess } from './helpers/service.js';

// Tinybird API details a client may rely on, through the real server (no rate limit set).
const READER = 'ds-reader-token';
let svc: ServiceProcess;

beforeAll(async () => {
  svc = await startServiceProcess({
    env: { TB_TOKENS: `dsreader:${READER}:DATASOURCES:READ:feature_events` },
  });
  const rows = Array.from({ length: 40 }, (_, i) => event({ event_id: `api_${i}`, user_id: `u${i % 4}` }));
  expect((await postEvents(svc, ndjson(rows))).status).toBe(200);
}, 90_000);
afterAll(async () => {
  await svc?.stop();
});

const get = (path: string, token = svc.token, headers: Record<string, string> = {}) =>
  fetch(`${svc.baseUrl}${path}`, { headers: { Authorization: `Bearer ${token}`, ...headers } });
const sql = (q: string, token: string) =>
  fetch(`${svc.baseUrl}/v0/sql`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: q });

describe('Pipes API details', () => {
  it('GET /v0/pipes/<name> describes the pipe: nodes with their SQL, the endpoint, parameters', async () => {
    const res = await get('/v0/pipes/user_feature_usage');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      name: string;
      endpoint: string;
      nodes: { name: string; sql: string }[];
      parameters: { name: string }[];
    };
    expect(body.name).toBe('user_feature_usage');
    expect(body.nodes.map((n) => n.name)).toContain(body.endpoint);
    expect(body.nodes.some((n) => /feature_usage_by_user/.test(n.sql))).toBe(true);
    expect(body.parameters.map((p) => p.name)).toContain('user_id');
    expect((await get('/v0/pipes/no_such_pipe')).status).toBe(404);
  });

  it('serves .csvwithnames, and format= when the path has no extension', async () => {
    const csv = await get('/v0/pipes/user_feature_usage.csvwithnames?user_id=u1');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toBe('"feature_id","product_version","events","sessions","first_used","last_used"');
    expect(lines[1]).toMatch(/^"feature_recommendations","2\.4\.1",10,1,/);
    const nd = await get('/v0/pipes/user_feature_usage?format=ndjson&user_id=u1');
    expect(nd.headers.get('content-type')).toMatch(/x-ndjson/);
    expect(JSON.parse((await nd.text()).trim())).toMatchObject({ events: 10 });
    const bad = await get('/v0/pipes/user_feature_usage?format=xml&user_id=u1');
    expect(bad.status).toBe(400);
  });

  it('sends rate-limit headers on every answer, with no limit configured', async () => {
    const pipe = await get('/v0/pipes/user_feature_usage.json?user_id=u1');
    expect(pipe.headers.get('x-ratelimit-limit')).toBe(String(UNLIMITED));
    expect(Number(pipe.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(0);
    expect(Number(pipe.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
    const ingest = await postEvents(svc, JSON.stringify(event({ event_id: 'api_rl' })));
    expect(ingest.status).toBe(200);
    expect(ingest.headers.get('x-ratelimit-limit')).toBe(String(UNLIMITED));
  });

  it('gzips answers for clients that accept it, the same bytes on a cache miss and on a hit', async () => {
    // node's fetch would decompress silently: read the raw bytes through the http module.
    const { request } = await import('node:http');
    const rawGet = (path: string, headers: Record<string, string>) =>
      new Promise<{ encoding?: string; vary?: string; cache?: string; body: Buffer }>((resolve, reject) => {
        const req = request(
          `${svc.baseUrl}${path}`,
          { headers: { Authorization: `Bearer ${svc.token}`, ...headers } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () =>
              resolve({
                encoding: res.headers['content-encoding'],
                vary: res.headers.vary,
                cache: res.headers['x-cache'] as string | undefined,
                body: Buffer.concat(chunks),
              }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
    const raw = await rawGet('/v0/pipes/user_feature_usage.json?user_id=u1', { 'Accept-Encoding': 'gzip' });
    expect(raw.encoding).toBe('gzip');
    expect(JSON.parse(gunzipSync(raw.body).toString()).data[0]).toMatchObject({ events: 10 });
    // A cached answer (one question, and a moving window cut into cached parts) is gzipped
    // once and sent to every later caller: each decodes to the answer sent without gzip.
    // (statistics are the computing query's: a moving window's first bucket is computed
    // again when a second passes between two calls.)
    const answer = (text: string) => {
      const { statistics: _, ...rest } = JSON.parse(text);
      return rest;
    };
    for (const path of [
      '/v0/pipes/feature_usage_summary.json?start_date=2020-01-01%2000:00:00',
      '/v0/pipes/feature_usage_timeline.json?interval=30%20day&granularity=hour',
    ]) {
      // An insert between the calls (an earlier test's event landing) makes a new answer: ask
      // again, a few times, for three calls that see the same data.
      let calls: Array<Awaited<ReturnType<typeof rawGet>>> = [];
      for (let attempt = 0; attempt < 5; attempt++) {
        calls = [
          await rawGet(path, {}),
          await rawGet(path, { 'Accept-Encoding': 'gzip' }),
          await rawGet(path, { 'Accept-Encoding': 'gzip, deflate' }),
        ];
        const texts = calls.map((r, i) =>
          JSON.stringify(answer((i ? gunzipSync(r.body) : r.body).toString())),
        );
        if (texts.every((t) => t === texts[0]) && calls[2]?.cache === 'HIT') break;
      }
      const [plain, ...zipped] = calls as [(typeof calls)[0], ...typeof calls];
      expect(plain.encoding, path).toBeUndefined();
      for (const z of zipped) {
        expect([z.encoding, z.vary], path).toEqual(['gzip', 'Accept-Encoding']);
        expect(answer(gunzipSync(z.body).toString()), path).toEqual(answer(plain.body.toString()));
      }
      // The second gzip caller got the cached answer (a window that moves may miss once a second).
      if (path.includes('summary')) expect(zipped[1]?.cache, path).toBe('HIT');
    }
  });
});

describe('tokens', () => {
  it('DATASOURCES:READ lets /v0/sql SELECT from that datasource and nothing else', async () => {
    const ok = await sql('SELECT count() AS n FROM feature_events FORMAT JSONEachRow', READER);
    expect(ok.status).toBe(200);
    expect(JSON.parse(await ok.text())).toEqual({ n: 41 });
    expect((await sql('SELECT count() FROM feature_events_quarantine', READER)).status).toBe(200);
    for (const refused of [
      'SELECT count() FROM feature_usage_hourly',
      'SELECT * FROM feature_events WHERE user_id IN (SELECT user_id FROM feature_usage_by_user)',
      'SELECT count() FROM feature_events WHERE feature_id IN feature_usage_hourly',
      'SELECT * FROM system.tables',
      'SHOW TABLES',
    ]) {
      const res = await sql(refused, READER);
      expect(res.status, refused).toBe(403);
    }
    expect((await get('/v0/pipes/user_feature_usage.json?user_id=u1', READER)).status).toBe(403);
  });

  it("GET /tokens answers Tinybird Local's token document to this machine only", async () => {
    const res = await fetch(`${svc.baseUrl}/tokens`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      user_token: svc.token,
      admin_token: svc.token,
      workspace_admin_token: svc.token,
    });
    // Without a loopback peer (here: no socket at all) it is refused.
    const app = new Hono().get('/tokens', localTokens('secret'));
    const remote = await app.request('/tokens');
    expect(remote.status).toBe(403);
    expect(await remote.text()).not.toContain('secret');
  });
});
