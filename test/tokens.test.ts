import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recentTimestamp } from './helpers/reliability.js';
import { event, ndjson, postEvents, type ServiceProcess, startServiceProcess } from './helpers/service.js';

// Tinybird's Token API, persisted across restarts; JWT read tokens whose fixed_params
// isolate one tenant; the q parameter over a pipe's result.

const ENV_TOKEN = 'env-token-0123456789';
let svc: ServiceProcess;
const running: ServiceProcess[] = [];

async function start(dataDir?: string) {
  const s = await startServiceProcess({
    dataDir,
    env: { TB_ADMIN_TOKEN: 'tokens-test-admin', TB_TOKENS: `envtok:${ENV_TOKEN}:PIPES:READ:kpis` },
  });
  running.push(s);
  return s;
}

beforeAll(async () => {
  svc = await start();
  const rows = ['acc_1', 'acc_2', 'acc_3'].flatMap((acc, a) =>
    Array.from({ length: 4 + a }, (_, i) =>
      event({
        event_id: `${acc}_${i}`,
        account_id: acc,
        user_id: `${acc}_u${i % 2}`,
        timestamp: recentTimestamp(i + 1),
      }),
    ),
  );
  expect((await postEvents(svc, ndjson(rows))).status).toBe(200);
});
afterAll(async () => {
  for (const s of running) await s.stop();
});

const api = (path: string, token: string, init: RequestInit = {}) =>
  fetch(`${svc.baseUrl}${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...init.headers } });
const rowsOf = async (res: Response) => {
  const body = (await res.json()) as { data?: Array<Record<string, unknown>>; error?: string };
  if (res.status !== 200) throw new Error(`${res.status} ${body.error}`);
  return body.data ?? [];
};

describe('/v0/tokens', () => {
  it('creates, lists, refreshes and deletes tokens, and they survive a restart', async () => {
    const created = await api(
      '/v0/tokens?name=reader&scope=PIPES:READ:events&scope=PIPES:READ:kpis',
      svc.token,
      {
        method: 'POST',
      },
    );
    expect(created.status).toBe(200);
    const t = (await created.json()) as { token: string; name: string; scopes: unknown[] };
    expect(t.name).toBe('reader');
    expect(t.scopes).toEqual([
      { type: 'PIPES:READ', resource: 'events', filter: '' },
      { type: 'PIPES:READ', resource: 'kpis', filter: '' },
    ]);
    expect((await api('/v0/pipes/events.json', t.token)).status).toBe(200);
    expect((await api('/v0/pipes/top_features.json', t.token)).status).toBe(403);
    expect((await api('/v0/tokens?name=reader&scope=ADMIN', svc.token, { method: 'POST' })).status).toBe(400);
    expect((await api('/v0/tokens?name=x&scope=PIPES:WRITE:y', svc.token, { method: 'POST' })).status).toBe(
      400,
    );
    expect((await api('/v0/tokens', t.token)).status).toBe(403);

    const refreshed = (await (
      await api('/v0/tokens/reader/refresh', svc.token, { method: 'POST' })
    ).json()) as {
      token: string;
    };
    expect(refreshed.token).not.toBe(t.token);
    expect((await api('/v0/pipes/events.json', t.token)).status).toBe(403);
    expect((await api('/v0/pipes/events.json', refreshed.token)).status).toBe(200);

    // Restart on the same data directory: the created token is still there, env tokens too.
    expect(await svc.stop()).toBe(0);
    svc = await start(svc.dataDir);
    expect((await api('/v0/pipes/events.json', refreshed.token)).status).toBe(200);
    const list = (await (await api('/v0/tokens', svc.token)).json()) as { tokens: Array<{ name: string }> };
    // Besides these, the shipped pipes' TOKEN lines (src/project) make one <pipe>_read token each.
    const names = list.tokens.map((x) => x.name).filter((n) => !n.endsWith('_read'));
    expect(names.sort()).toEqual(['admin token', 'envtok', 'reader']);
    expect(list.tokens.map((x) => x.name)).toContain('events_read');

    expect((await api('/v0/tokens/envtok', svc.token, { method: 'DELETE' })).status).toBe(403);
    expect((await api('/v0/tokens/reader', svc.token, { method: 'DELETE' })).status).toBe(204);
    expect((await api('/v0/pipes/events.json', refreshed.token)).status).toBe(403);
    expect((await api('/v0/tokens/reader', svc.token)).status).toBe(404);
    expect(await svc.stop()).toBe(0);
    svc = await start(svc.dataDir);
    expect((await api('/v0/pipes/events.json', refreshed.token)).status).toBe(403);
    expect((await api('/v0/pipes/kpis.json', ENV_TOKEN)).status).toBe(200);
  });
});

describe('JWT read tokens', () => {
  const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
  const jwtFor = async (fixed: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const res = await api(`/v0/tokens?expiration_time=${inAnHour()}`, svc.token, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: 'tenant',
        scopes: [{ type: 'PIPES:READ', resource: 'events', fixed_params: fixed }],
        ...extra,
      }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  };

  it('a token fixed to one account never returns another account, whatever is sent', async () => {
    const jwt = await jwtFor({ account_id: 'acc_2' });
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            account_id: fc.constantFrom('acc_1', 'acc_3', '', "' OR 1=1 --", 'acc_2'),
            user_id: fc.constantFrom('acc_1_u0', 'acc_2_u1', 'acc_3_u0'),
            limit: fc.constantFrom('5', '1000'),
          },
          { requiredKeys: [] },
        ),
        fc.boolean(),
        fc.constantFrom('', 'SELECT * FROM _', 'SELECT account_id, count() AS n FROM _ GROUP BY account_id'),
        async (params, asBody, q) => {
          const qs = new URLSearchParams(q ? { q } : {});
          const res = asBody
            ? await api(`/v0/pipes/events.json?${qs}`, jwt, {
                method: 'POST',
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify(params),
              })
            : await api(
                `/v0/pipes/events.json?${new URLSearchParams({ ...params, ...(q ? { q } : {}) })}`,
                jwt,
              );
          for (const row of await rowsOf(res)) expect(row.account_id).toBe('acc_2');
        },
      ),
      { numRuns: 40 },
    );
    expect((await rowsOf(await api('/v0/pipes/events.json?account_id=acc_1', jwt))).length).toBe(5);
  });

  it('refuses forged, expired and wrong-scope tokens', async () => {
    const sign = (secret: string, exp: number, resource = 'events') =>
      new SignJWT({ name: 'x', scopes: [{ type: 'PIPES:READ', resource }] })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(secret));
    const forged = await sign('not-the-admin-token', inAnHour());
    const expired = await sign('tokens-test-admin', Math.floor(Date.now() / 1000) - 10);
    const otherPipe = await sign('tokens-test-admin', inAnHour(), 'kpis');
    const r1 = await api('/v0/pipes/events.json', forged);
    expect([r1.status, ((await r1.json()) as { error: string }).error]).toEqual([
      403,
      expect.stringMatching(/Invalid JWT/),
    ]);
    const r2 = await api('/v0/pipes/events.json', expired);
    expect([r2.status, ((await r2.json()) as { error: string }).error]).toEqual([
      403,
      expect.stringMatching(/expired/),
    ]);
    expect((await api('/v0/pipes/events.json', otherPipe)).status).toBe(403);
    expect((await api('/v0/pipes/kpis.json', otherPipe)).status).toBe(200);
    // A JWT reads pipes only: not the Events API, not SQL, not the token API.
    expect((await api('/v0/sql?q=SELECT%201', otherPipe)).status).toBe(403);
    expect((await api('/v0/tokens', otherPipe)).status).toBe(403);
  });

  it('limits.rps answers 429 with Retry-After past the limit', async () => {
    const jwt = await jwtFor({ account_id: 'acc_1' }, { limits: { rps: 2 } });
    const statuses = await Promise.all(Array.from({ length: 8 }, () => api('/v0/pipes/events.json', jwt)));
    const limited = statuses.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]?.headers.get('retry-after')).toBe('1');
  });
});

describe('q over a pipe result', () => {
  it('runs SQL over _ and nothing else', async () => {
    const q = (text: string) => api(`/v0/pipes/events.json?${new URLSearchParams({ q: text })}`, svc.token);
    expect(
      await rowsOf(await q('SELECT account_id, count() AS n FROM _ GROUP BY account_id ORDER BY account_id')),
    ).toEqual([
      { account_id: 'acc_1', n: 4 },
      { account_id: 'acc_2', n: 5 },
      { account_id: 'acc_3', n: 6 },
    ]);
    expect(await rowsOf(await q('WITH 2 AS k SELECT count() * k AS n FROM _'))).toEqual([{ n: 30 }]);
    for (const [text, status] of [
      ['SELECT * FROM feature_events', 403],
      ['SELECT * FROM _ WHERE event_id IN (SELECT event_id FROM feature_events_quarantine)', 403],
      ['SELECT * FROM system.tables', 403],
      ['SELECT * FROM _ WHERE user_id IN feature_events', 403],
      ["SELECT * FROM url('http://127.0.0.1:1/', CSV, 'a String')", 403],
      ["SELECT joinGet('x', 'y', 1) FROM _", 403],
      ['SELECT count() FROM _ SETTINGS max_execution_time = 1000', 403],
      ['SELECT 1 FROM _; DROP TABLE feature_events', 400],
      ['DROP TABLE feature_events', 403],
      ['SELEC', 400],
    ] as const) {
      const res = await q(text);
      expect([text, res.status]).toEqual([text, status]);
    }
  });
});

describe('.parquet and .prometheus', () => {
  it('serve the pipe result as Parquet bytes and as Prometheus text', async () => {
    const parquet = await api('/v0/pipes/events.parquet?account_id=acc_1', svc.token);
    expect(parquet.status).toBe(200);
    expect(parquet.headers.get('content-type')).toBe('application/vnd.apache.parquet');
    const bytes = Buffer.from(await parquet.arrayBuffer());
    expect([bytes.subarray(0, 4).toString(), bytes.subarray(-4).toString()]).toEqual(['PAR1', 'PAR1']);
    // A Parquet reader (chDB, in this test process, in memory) reads the rows back.
    const file = join(mkdtempSync(join(tmpdir(), 'fe-parquet-')), 'events.parquet');
    writeFileSync(file, bytes);
    const { query } = await import('chdb');
    expect(query(`SELECT event_id FROM file('${file}', Parquet) ORDER BY event_id`, 'CSV')).toBe(
      '"acc_1_0"\n"acc_1_1"\n"acc_1_2"\n"acc_1_3"\n',
    );

    const q =
      "SELECT 'feature_events_total' AS name, count() AS value, map('account', account_id) AS labels FROM _ GROUP BY account_id ORDER BY account_id";
    const prom = await api(`/v0/pipes/events.prometheus?${new URLSearchParams({ q })}`, svc.token);
    expect(prom.status).toBe(200);
    expect(prom.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await prom.text()).toBe(
      'feature_events_total{account="acc_1"} 4\nfeature_events_total{account="acc_2"} 5\nfeature_events_total{account="acc_3"} 6\n\n',
    );
  });
});
