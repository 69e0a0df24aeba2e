import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../src/auth/index.js';
import { insertJsonLines, migrate, type StorageClient } from '../src/clickhouse/index.js';
import { createPipesApp } from '../src/http/pipes-route.js';
import { loadPipes } from '../src/pipes/index.js';
import { event } from './helpers/service.js';
import { embeddedStorage } from './helpers/storage.js';

// An empty session_id is no session: rows stored before migration 009 (counted '' as a
// session) are recounted by it, and rows stored after are counted right by the views.
const ADMIN = 'admin';
let storage: StorageClient;
let app: Hono;
const dirs: string[] = [];

const rows = (user: string, sessions: string[], batch: string) =>
  sessions.map((s, i) =>
    JSON.stringify(event({ event_id: `${batch}_${i}`, user_id: user, session_id: s, feature_id: 'f_sess' })),
  );

async function one<T>(sql: string): Promise<T> {
  const r = await storage.admin.query({ query: sql, format: 'JSONEachRow' });
  return ((await r.json()) as T[])[0] as T;
}

beforeAll(async () => {
  storage = await embeddedStorage('session-id-');
  // The migrations as they were before 009, applied first, with data stored under them.
  const before = mkdtempSync(join(tmpdir(), 'session-mig-'));
  dirs.push(before);
  cpSync('clickhouse', before, {
    recursive: true,
    filter: (src) => !/00[9]_|0[1-9]\d_/.test(src),
  });
  await migrate(storage.admin, before);
  // Three session-less events of one user, and a second user's events in two sessions
  // (a batch with no empty session: its rebuilt rollup block equals the one the view wrote).
  await insertJsonLines(storage.admin, 'feature_events', rows('u_none', ['', '', ''], 'a'), 'a');
  await insertJsonLines(storage.admin, 'feature_events', rows('u_two', ['s1', 's2', 's1'], 'b'), 'b');
  await migrate(storage.admin, 'clickhouse');
  const { pipes, errors } = loadPipes('pipes');
  expect(errors).toEqual([]);
  const tokens = new TokenStore([{ name: 'admin', token: ADMIN, scopes: [{ type: 'ADMIN' }] }]);
  app = new Hono().route('/v0/pipes', createPipesApp({ client: storage.admin, pipes, tokens }));
});
afterAll(async () => {
  await storage?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const get = async (path: string) => {
  const res = await app.request(`/v0/pipes/${path}`, { headers: { Authorization: `Bearer ${ADMIN}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: Record<string, unknown>[] }).data;
};

describe('empty session_id', () => {
  it('migration 009 recounts rollups stored before it', async () => {
    expect(
      await one<{ s: number; e: number }>(
        "SELECT uniqExactMerge(sessions) AS s, sum(events) AS e FROM feature_usage_by_user WHERE user_id = 'u_none'",
      ),
    ).toEqual({ s: 0, e: 3 });
    expect(
      await one<{ s: number; e: number }>(
        "SELECT uniqExactMerge(sessions) AS s, sum(events) AS e FROM feature_usage_by_user WHERE user_id = 'u_two'",
      ),
    ).toEqual({ s: 2, e: 3 });
    expect(
      await one<{ s: number; u: number; e: number }>(
        "SELECT uniqExactMerge(sessions) AS s, uniqExactMerge(users) AS u, sum(events) AS e FROM feature_usage_hourly WHERE feature_id = 'f_sess'",
      ),
    ).toEqual({ s: 2, u: 2, e: 6 });
  });

  it('rows stored after it are counted right, by the rollups and the pipes', async () => {
    await insertJsonLines(storage.admin, 'feature_events', rows('u_none', ['', 's9'], 'c'), 'c');
    const user = await get('user_feature_usage.json?user_id=u_none');
    expect(user.map((r) => [r.events, r.sessions])).toEqual([[5, 1]]);
    const summary = await get('feature_usage_summary.json?feature_id=f_sess');
    expect(summary.map((r) => [r.events, r.unique_users, r.unique_sessions])).toEqual([[8, 2, 3]]);
    // A window with partial edge hours: the raw-event side of the summary skips '' too.
    const edge = await get(
      'feature_usage_summary.json?feature_id=f_sess&start_date=2023-10-15 14:35:00&end_date=2023-10-15 14:36:00',
    );
    expect(edge.map((r) => [r.events, r.unique_sessions])).toEqual([[8, 3]]);
  });
});
