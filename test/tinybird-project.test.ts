import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceProcess, startServiceProcess } from './helpers/service.js';

// A Tinybird project written from Tinybird's docs (test/fixtures/tinybird-project) loads
// unchanged; data posted to its datasources is served by its endpoints, checked against
// plain TypeScript over the same rows.
const PROJECT = fileURLToPath(new URL('./fixtures/tinybird-project', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'tb-project-'));
let svc: ServiceProcess;
let tokens: Record<string, string>;

interface View {
  timestamp: string;
  session_id: string;
  page: { pathname: string; referrer?: string };
  geo: { country: string };
  duration_ms: number;
}
const PATHS = ['/', '/docs/intro', '/docs/api', '/pricing', '/blog/launch', '/docs/100%'];
const views: View[] = Array.from({ length: 600 }, (_, i) => ({
  timestamp: `2026-11-${String(1 + (i % 20)).padStart(2, '0')} ${String(i % 24).padStart(2, '0')}:15:00`,
  session_id: `s${(i * 7) % 90}`,
  page: { pathname: PATHS[(i * i) % PATHS.length] as string, ...(i % 3 ? { referrer: 'x' } : {}) },
  geo: { country: ['ES', 'FR', 'US'][i % 3] as string },
  duration_ms: (i * 37) % 5000,
}));
const signups = Array.from({ length: 30 }, (_, i) => ({
  created_at: `2026-11-0${1 + (i % 9)} 10:00:00`,
  account_id: `acc${i % 20}`, // ten accounts sign up twice: ReplacingMergeTree keeps the latest
  plan: ['free', 'pro', 'team'][i % 3],
  seats: 1 + (i % 5),
}));

const ndjson = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n');
const post = (name: string, body: string, token: string) =>
  fetch(`${svc.baseUrl}/v0/events?name=${name}&wait=true`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body,
  });
const get = async (path: string, token: string) => {
  const res = await fetch(`${svc.baseUrl}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return (JSON.parse(text) as { data: Record<string, unknown>[] }).data;
};

async function start() {
  svc = await startServiceProcess({ dataDir, env: { PROJECT_DIR: PROJECT } });
  const res = await fetch(`${svc.baseUrl}/v0/tokens`, { headers: { Authorization: `Bearer ${svc.token}` } });
  const list = (await res.json()) as { tokens: { name: string; token: string }[] };
  tokens = Object.fromEntries(list.tokens.map((t) => [t.name, t.token]));
}

beforeAll(start, 90_000);
afterAll(async () => {
  await svc?.stop();
});

/** The independent computation of top_pages: views, distinct sessions, duration per page. */
function expectedTop(filter: (p: string) => boolean) {
  const by = new Map<string, { views: number; sessions: Set<string>; duration_ms: number }>();
  for (const v of views) {
    if (!filter(v.page.pathname)) continue;
    const a = by.get(v.page.pathname) ?? { views: 0, sessions: new Set(), duration_ms: 0 };
    a.views++;
    a.sessions.add(v.session_id);
    a.duration_ms += v.duration_ms;
    by.set(v.page.pathname, a);
  }
  return [...by].map(([pathname, a]) => ({
    pathname,
    views: a.views,
    sessions: a.sessions.size,
    duration_ms: a.duration_ms,
  }));
}

describe('a Tinybird project', () => {
  it('creates the TOKEN lines as tokens with their scopes', () => {
    expect(Object.keys(tokens)).toEqual(expect.arrayContaining(['tracker', 'dashboard', 'analyst']));
  });

  it('ingests into its datasources through the Events API, quarantining bad rows, exactly once', async () => {
    const bad = [
      {
        timestamp: 'yesterday',
        session_id: 'x',
        page: { pathname: '/' },
        geo: { country: 'ES' },
        duration_ms: 1,
      },
      { session_id: 'no time' },
    ];
    const body = `${ndjson(views)}\n${ndjson(bad)}\nnot json`;
    const first = await post('page_views', body, tokens.tracker as string);
    expect(await first.json()).toEqual({ successful_rows: 600, quarantined_rows: 3, redacted_rows: 0 });
    // Exactly once is the queue's (spool or Kafka, then range-named insert tokens), as for
    // feature_events: a re-delivery after a crash stores nothing twice, while two requests with
    // the same body are two requests, as in Tinybird (test/project-datasource-path.test.ts).
    expect((await post('signups', ndjson(signups), tokens.tracker as string)).status).toBe(200);
    const [counts] = await svc.sql<{ v: string; q: string; s: string }>(
      'SELECT (SELECT count() FROM page_views) AS v, (SELECT count() FROM page_views_quarantine) AS q, (SELECT count() FROM signups) AS s',
    );
    // signups is a ReplacingMergeTree: the ten accounts posted twice keep one row each.
    expect(counts).toEqual({ v: 600, q: 3, s: 20 });
    const [q] = await svc.sql<{ c: string[] }>(
      "SELECT c__error_column AS c FROM page_views_quarantine WHERE raw LIKE '%yesterday%'",
    );
    expect(q?.c).toEqual(['timestamp']);
    // A token without APPEND on it cannot write; the dashboard token cannot either.
    expect((await post('page_views', ndjson(views.slice(0, 1)), tokens.dashboard as string)).status).toBe(
      403,
    );
  });

  it('serves its endpoints (INCLUDE, columns, enum_with_default, sql_unescape, sql_and) as computed independently', async () => {
    const token = tokens.dashboard as string;
    const all = await get('/v0/pipes/top_pages.json?limit=100', token);
    const expected = expectedTop(() => true).sort(
      (a, b) => b.views - a.views || (a.pathname < b.pathname ? -1 : 1),
    );
    expect(all).toEqual(expected);
    const docs = await get('/v0/pipes/top_pages.json?path=/docs/%25&order_by=sessions', token);
    expect(docs).toEqual(
      expectedTop((p) => p.startsWith('/docs/')).sort(
        (a, b) => b.sessions - a.sessions || (a.pathname < b.pathname ? -1 : 1),
      ),
    );
    // An order_by outside the enum falls back to the default instead of failing.
    expect(await get('/v0/pipes/top_pages.json?limit=100&order_by=password', token)).toEqual(expected);
    const byDay = await get(
      '/v0/pipes/top_pages.json?group_by=day&limit=1000&start_date=2026-11-05&end_date=2026-11-06',
      token,
    );
    const days = new Map<string, number>();
    for (const v of views) {
      const d = v.timestamp.slice(0, 10);
      if (d >= '2026-11-05' && d <= '2026-11-06') days.set(d, (days.get(d) ?? 0) + 1);
    }
    expect(Object.fromEntries(byDay.map((r) => [r.day, r.views]))).toEqual(Object.fromEntries(days));
    // A pipe reading another pipe's endpoint, parameters passed through.
    expect(await get('/v0/pipes/pages_overview.json', token)).toEqual([
      { pages: expected.length, views: 600 },
    ]);
    const docsOnly = expectedTop((p) => p.startsWith('/docs/'));
    expect(await get('/v0/pipes/pages_overview.json?path=/docs/%25', token)).toEqual([
      { pages: docsOnly.length, views: docsOnly.reduce((n, r) => n + r.views, 0) },
    ]);
    // A column of no table the pipe reads is refused.
    const bad = await fetch(`${svc.baseUrl}/v0/pipes/top_pages.json?group_by=plan`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(bad.status).toBe(400);

    const latest = new Map<string, (typeof signups)[number]>();
    for (const s of signups) {
      const prev = latest.get(s.account_id);
      if (!prev || s.created_at >= prev.created_at) latest.set(s.account_id, s);
    }
    const plans = new Map<string, { accounts: number; seats: number }>();
    for (const s of latest.values()) {
      if (s.plan === 'free') continue;
      const p = plans.get(s.plan as string) ?? { accounts: 0, seats: 0 };
      p.accounts++;
      p.seats += s.seats;
      plans.set(s.plan as string, p);
    }
    expect(await get('/v0/pipes/signups_by_plan.json?plans=pro,team', token)).toEqual(
      [...plans].sort().map(([plan, p]) => ({ plan, ...p })),
    );
  });

  it('runs a copy pipe on demand into its target datasource', async () => {
    const res = await fetch(`${svc.baseUrl}/v0/pipes/snapshot_top_pages/copy?top=3`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${svc.token}` },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const snap = await svc.sql<{ pathname: string; views: string }>(
      'SELECT pathname, views FROM top_pages_snapshot ORDER BY views DESC, pathname',
    );
    const top3 = expectedTop(() => true)
      .sort((a, b) => b.views - a.views || (a.pathname < b.pathname ? -1 : 1))
      .slice(0, 3)
      .map(({ pathname, views }) => ({ pathname, views }));
    expect(snap).toEqual(top3);
  });

  it('applies again at a restart without changes, and refuses a change that would lose data', async () => {
    const before = { ...tokens };
    expect(await svc.stop()).toBe(0);
    await start();
    expect(tokens).toEqual(before);
    const [n] = await svc.sql<{ n: string }>('SELECT count() AS n FROM page_views');
    expect(n?.n).toBe(600);
    expect(await svc.stop()).toBe(0);

    const edited = mkdtempSync(join(tmpdir(), 'tb-project-edit-'));
    cpSync(PROJECT, edited, { recursive: true });
    const file = join(edited, 'datasources/page_views.datasource');
    writeFileSync(
      file,
      readFileSync(file, 'utf8')
        .replace(/ {4}`referrer`[^\n]*\n/, '')
        .replace('`duration_ms` UInt32 `json:$.duration_ms`,', '`duration_ms` UInt32 `json:$.duration_ms`'),
    );
    await expect(startServiceProcess({ dataDir, env: { PROJECT_DIR: edited } })).rejects.toThrow(
      /refusing a change that could lose data \(column referrer would be dropped\)/,
    );
    await start(); // the unchanged project still starts on the same data
  }, 120_000);
});
