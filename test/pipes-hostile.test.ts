import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../src/auth/index.js';
import type { StorageClient } from '../src/clickhouse/index.js';
import { createPipesApp } from '../src/http/pipes-route.js';
import type { Pipe } from '../src/pipes/index.js';
import { generateEvents } from './helpers/generate-events.js';
import { openPipesFixture, type PipesFixture } from './helpers/pipes-fixture.js';

// Hostile values in every parameter of every pipe: each must answer 400 or be treated as
// plain data, never as SQL; the raw table must be untouched afterwards.
const ADMIN = 'admin-token';
let fixture: PipesFixture;
let storage: StorageClient;
let pipes: Map<string, Pipe>;
let app: ReturnType<typeof createPipesApp>;
const EVENTS = 2_000;

const CORPUS = [
  "'",
  "' OR '1'='1",
  "usr_1' --",
  '"; DROP TABLE feature_events; --',
  '1; DROP TABLE feature_events',
  "'); DROP TABLE feature_events; --",
  '/* comment */ usr_1',
  'usr_1 -- trailing',
  '{p_user_id:String}',
  '{user_id:String}',
  '{{ 1 }}',
  '{% end %}',
  '\\',
  "\\'",
  'usr_1\u0000',
  '\u0000; DROP TABLE feature_events',
  '\u02bc OR \u02bc1\u02bc=\u02bc1', // modifier-letter apostrophe
  '\uff07 OR 1=1', // fullwidth apostrophe
  'usr\u200b_1', // zero-width space
  '%27%20OR%201%3D1',
  'a'.repeat(100_000),
  '9'.repeat(100),
  '-1',
  '1e308',
  'NaN',
  '2023-13-45 99:99:99',
  '0000-00-00 00:00:00',
  '2023-10-15 14:35:22; DROP TABLE feature_events',
  '7 day; DROP TABLE feature_events',
  '30 DAY',
  '7 day)',
  'line\nbreak',
  'tab\there',
  '🦆',
  ' UNION ALL SELECT name, 1, 1, now(), now() FROM system.tables --',
  'hour, (SELECT 1)',
];

// Required parameters of each pipe (the others have none); a pipe missing here fails the test.
const VALID: Record<string, Record<string, string>> = {
  user_feature_usage: { user_id: 'usr_1' },
  feature_usage_summary: {},
  feature_usage_timeline: {},
  top_features: {},
  feature_adoption: {},
  user_recent_features: { user_id: 'usr_1' },
  kpis: {},
  churn_signals: {},
  feature_retention: { feature_id: 'feature_export' },
  cross_feature_usage: { feature_a: 'feature_export', feature_b: 'feature_share' },
  events: {},
};

// How an answer shows that a String filter matched nothing: no rows, except where the pipe
// answers a fixed grid (retention's groups and weeks, the single row of cross usage).
const MATCHED_NOTHING: Record<string, (name: string, data: Record<string, unknown>[]) => boolean> = {
  feature_retention: (_, data) =>
    data.length === 8 && data.every((r) => r.group !== 'used' || r.cohort_users === 0),
  cross_feature_usage: (name, data) =>
    data.length === 1 && (data[0]?.[name === 'feature_a' ? 'users_a' : 'users_b'] ?? 0) === 0,
};
const FILTERS = [
  'user_id',
  'feature_id',
  'product_version',
  'event_type',
  'account_id',
  'feature_a',
  'feature_b',
];

beforeAll(async () => {
  const events = generateEvents({ count: EVENTS, now: Date.now(), seed: 3 });
  fixture = await openPipesFixture(
    'pipes-hostile',
    events.map((e) => JSON.stringify(e)),
  );
  ({ storage, pipes } = fixture);
  app = createPipesApp({
    client: storage.admin,
    pipes,
    tokens: new TokenStore([{ name: 'admin', token: ADMIN, scopes: [{ type: 'ADMIN' }] }]),
  });
});

afterAll(async () => {
  await fixture?.close();
});

const count = async (table: string) => {
  const r = await storage.admin.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' });
  return Number(((await r.json<{ n: string }>())[0] as { n: string }).n);
};

describe('hostile parameters', () => {
  it('answer 400 or are plain data, in every parameter of every pipe', async () => {
    const statuses: Record<number, number> = {};
    for (const [name, pipe] of pipes) {
      expect(VALID[name], `${name}: add its required parameters to VALID`).toBeDefined();
      for (const spec of pipe.params) {
        for (const value of CORPUS) {
          const q = new URLSearchParams({ ...VALID[name], [spec.name]: value });
          const res = await app.request(`/${name}.json?${q}`, {
            headers: { Authorization: `Bearer ${ADMIN}` },
          });
          const text = await res.text();
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          const label = `${name} ${spec.name}=${JSON.stringify(value.slice(0, 60))}`;
          expect([200, 400], `${label}: ${text.slice(0, 300)}`).toContain(res.status);
          const body = JSON.parse(text) as { error?: string; data?: Record<string, unknown>[] };
          if (res.status === 400) {
            expect(body.error, label).toBeTruthy();
            expect(body.error, label).toContain(spec.name);
            continue;
          }
          // Accepted: only possible for String filters, and then it matched nothing.
          expect(spec.type, label).toBe('String');
          if (FILTERS.includes(spec.name)) {
            const nothing = MATCHED_NOTHING[name];
            if (nothing) expect(nothing(spec.name, body.data ?? []), label).toBe(true);
            else expect(body.data, label).toEqual([]);
          }
        }
      }
    }
    // Both outcomes occurred, so the corpus exercised both paths.
    expect(statuses[200]).toBeGreaterThan(0);
    expect(statuses[400]).toBeGreaterThan(0);
  });

  it('left feature_events and the rollups intact', async () => {
    expect(await count('feature_events')).toBe(EVENTS);
    expect(await count('feature_events_by_time')).toBe(EVENTS);
    const r = await storage.admin.query({
      query:
        "SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE 'feature%' ORDER BY name",
      format: 'JSONEachRow',
    });
    expect((await r.json<{ name: string }>()).map((x) => x.name)).toEqual([
      'feature_events',
      'feature_events_by_time',
      'feature_events_by_time_mv',
      'feature_events_quarantine',
      'feature_events_quarantine_replays',
      'feature_usage_by_user',
      'feature_usage_by_user_mv',
      'feature_usage_hourly',
      'feature_usage_hourly_mv',
    ]);
  });
});
