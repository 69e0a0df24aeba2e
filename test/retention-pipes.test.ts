import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../src/auth/index.js';
import { SINGLE } from '../src/clickhouse/migrations/profile.js';
import { applyConfiguredRetention } from '../src/clickhouse/retention/index.js';
import { createPipesApp } from '../src/http/pipes-route.js';
import { rawHorizon, withRetentionVar } from '../src/pipes/retention-window.js';
import { type AnalyticsEvent, generateAnalyticsEvents } from './helpers/analytics-events.js';
import { DAY, formatTs } from './helpers/analytics-expected.js';
import { parseTs } from './helpers/generate-events.js';
import { openPipesFixture, type PipesFixture } from './helpers/pipes-fixture.js';

// Raw events expire (RAW_RETENTION_DAYS) and every endpoint answers as it did before they
// did: the rollup pipes read expired hours from the rollups (edges widened to whole hours),
// the raw pipes refuse windows past the horizon (400) both before and after, and windows
// within retention are untouched. Expiry is forced (MODIFY TTL materializes it, then
// OPTIMIZE FINAL), never waited for.
const ADMIN = 'admin';
const RETENTION = 90;
const NOW = Date.now();
const HOUR = 3_600_000;
// Window edges relative to now that no recent event comes within 15 minutes of.
const EDGES = [7, 14, 21, 28, 30].map((d) => d * DAY);

let fixture: PipesFixture;
let app: Hono;
let old: AnalyticsEvent[];
let mid: AnalyticsEvent[];
let recent: AnalyticsEvent[];

beforeAll(async () => {
  // 20 days of events ending 190 days ago (past the 90-day horizon), and 40 recent days.
  old = generateAnalyticsEvents({ now: NOW - 190 * DAY, days: 20, users: 40, seed: 3 }).map((e) => ({
    ...e,
    event_id: `old_${e.event_id}`,
  }));
  // 20 days across the horizon (100 to 80 days ago): windows that are part rollup, part raw.
  mid = generateAnalyticsEvents({ now: NOW - 80 * DAY, days: 20, users: 30, seed: 9 }).map((e) => ({
    ...e,
    event_id: `mid_${e.event_id}`,
  }));
  recent = generateAnalyticsEvents({ now: NOW, days: 40, users: 40, seed: 5, avoidAgo: EDGES });
  // No TTL yet (migrations alone set none): the raw rows are all there for the "before" answers.
  fixture = await openPipesFixture(
    'retention-pipes',
    [...old, ...mid, ...recent].map((e) => JSON.stringify(e)),
  );
  const tokens = new TokenStore([{ name: 'admin', token: ADMIN, scopes: [{ type: 'ADMIN' }] }]);
  app = new Hono().route(
    '/v0/pipes',
    createPipesApp({
      client: fixture.storage.admin,
      pipes: fixture.pipes,
      tokens,
      rawRetentionDays: RETENTION,
      secrets: withRetentionVar(new Map(), RETENTION),
    }),
  );
}, 120_000);
afterAll(async () => fixture?.close());

async function count(where: string): Promise<number> {
  const rs = await fixture.storage.admin.query({
    query: `SELECT count() AS n FROM feature_events WHERE ${where}`,
    format: 'JSONEachRow',
  });
  return Number((await rs.json<{ n: string }>())[0]?.n);
}

async function answer(path: string): Promise<{ status: number; data?: unknown; error?: string }> {
  const res = await app.request(`/v0/pipes/${path}`, { headers: { Authorization: `Bearer ${ADMIN}` } });
  const body = (await res.json()) as { data?: unknown; error?: string };
  return res.status === 200 ? { status: 200, data: body.data } : { status: res.status, error: body.error };
}

/** Not on hour boundaries: the edges of the old period fall inside hours. */
const oldTs = (daysAgo: number, seconds: number) =>
  formatTs(Math.floor((NOW - daysAgo * DAY) / HOUR) * HOUR + seconds * 1000);
const OLD_START = oldTs(205, 17 * 60 + 33);
const OLD_END = oldTs(195, 42 * 60 + 10);
const oldWindow = `start_date=${OLD_START}&end_date=${OLD_END}`;
const oldUser = () => (old[10] as AnalyticsEvent).user_id;
const oldMonday = () => {
  const d = new Date(NOW - 200 * DAY);
  return formatTs(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())).slice(0, 10);
};
const recentMonday = () => {
  const d = new Date(NOW - 28 * DAY);
  return formatTs(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())).slice(0, 10);
};

/** Every endpoint, over the expired period and within retention. */
const requests = () => ({
  // The three shipped pipes over the expired period.
  summaryOld: `feature_usage_summary.json?${oldWindow}`,
  summaryOldVersion: `feature_usage_summary.json?${oldWindow}&product_version=2.4.1`,
  summaryAll: 'feature_usage_summary.json',
  timelineOldHour: `feature_usage_timeline.json?${oldWindow}&granularity=hour`,
  timelineOldDay: `feature_usage_timeline.json?${oldWindow}&feature_id=feature_search,feature_export`,
  timelineYear: 'feature_usage_timeline.json?interval=365 day&granularity=week',
  userOld: `user_feature_usage.json?user_id=${oldUser()}`,
  // Within retention: exact to the second, as before.
  summaryRecent: `feature_usage_summary.json?start_date=${formatTs(NOW - 20 * DAY + 1234_000)}&end_date=${formatTs(NOW - 3 * DAY - 777_000)}`,
  timelineRecent: 'feature_usage_timeline.json?interval=14 day',
  // The analytics pipes read raw events: past the horizon they refuse, within it they answer.
  eventsOld: `events.json?${oldWindow}`,
  // Answered from the hourly rollup past the horizon, from raw events after it.
  topStraddle: 'top_features.json?interval=120 day',
  topStraddleVersion: 'top_features.json?interval=120 day&product_version=2.4.0',
  topOldType: `top_features.json?${oldWindow}&event_type=feature_used`,
  adoptionStraddle: 'feature_adoption.json?interval=60 day',
  crossStraddle:
    'cross_feature_usage.json?interval=120 day&feature_a=feature_search&feature_b=feature_export',
  eventsRecent: 'events.json?interval=7 day&limit=1000',
  topOld: `top_features.json?${oldWindow}`,
  topRecent: 'top_features.json?interval=21 day',
  adoptionOld: `feature_adoption.json?${oldWindow}`,
  adoptionRecent: 'feature_adoption.json?interval=14 day',
  crossOld: `cross_feature_usage.json?${oldWindow}&feature_a=feature_search&feature_b=feature_export`,
  crossRecent: 'cross_feature_usage.json?interval=28 day&feature_a=feature_search&feature_b=feature_export',
  churnOld: `churn_signals.json?${oldWindow}`,
  churnRecent: 'churn_signals.json?interval=7 day',
  retentionOld: `feature_retention.json?cohort_week=${oldMonday()}&feature_id=feature_search&weeks=2`,
  retentionRecent: `feature_retention.json?cohort_week=${recentMonday()}&feature_id=feature_search&weeks=2`,
  recentFeaturesOld: `user_recent_features.json?user_id=${oldUser()}&start_date=${OLD_START}`,
  recentFeaturesRecent: `user_recent_features.json?user_id=${(recent[0] as AnalyticsEvent).user_id}&days=21`,
  kpis: 'kpis.json',
});

let before: Record<string, Awaited<ReturnType<typeof answer>>>;
const OLD_PERIOD = `timestamp < '${formatTs(NOW - 150 * DAY)}'`;

describe('retention: answers before and after raw events expire', () => {
  it('answers every endpoint before expiry: the expired period from rollups or a 400, the rest as ever', async () => {
    expect(await count(OLD_PERIOD)).toBe(old.length);
    before = {};
    for (const [name, path] of Object.entries(requests())) before[name] = await answer(path);
    // No rollup holds single rows, per-user activity or event types: refused past the horizon.
    const refused = ['eventsOld', 'topOldType', 'churnOld', 'retentionOld', 'recentFeaturesOld'];
    for (const [name, a] of Object.entries(before)) {
      if (refused.includes(name)) {
        expect(a.status, name).toBe(400);
        expect(a.error, name).toBe(
          '[Error] the window starts before the raw-event retention (RAW_RETENTION_DAYS; docs/operations.md#retention): ask for a later one',
        );
      } else expect(a.status, `${name}: ${a.error}`).toBe(200);
    }
    // Recent windows have rows (so "unchanged" below compares something).
    for (const name of [
      'eventsRecent',
      'topRecent',
      'adoptionRecent',
      'crossRecent',
      'retentionRecent',
      'kpis',
    ])
      expect((before[name]?.data as unknown[] | undefined)?.length, name).toBeGreaterThan(0);
  });

  it('past the horizon, window edges count whole hours (from the rollup); within it, to the second', () => {
    const within = (from: number, to: number) =>
      [...old, ...mid, ...recent].filter((e) => parseTs(e.timestamp) >= from && parseTs(e.timestamp) <= to);
    const inRange = (from: number, to: number) => within(from, to).length;
    const events = (name: string) =>
      ((before[name]?.data ?? []) as Array<{ events: number }>).reduce((s, r) => s + Number(r.events), 0);
    const s = parseTs(OLD_START);
    const e = parseTs(OLD_END);
    const wide = inRange(s - (s % HOUR), e - (e % HOUR) + HOUR - 1000);
    expect(events('summaryOld')).toBe(wide);
    // The widening mattered: the exact count differs (events lie in the edge hours).
    expect(inRange(s, e)).toBeLessThan(wide);
    const rs = parseTs(formatTs(NOW - 20 * DAY + 1234_000));
    const re = parseTs(formatTs(NOW - 3 * DAY - 777_000));
    expect(events('summaryRecent')).toBe(inRange(rs, re));
    expect(rawHorizon(NOW, RETENTION)).toBeGreaterThan(e);
    // The analytics pipes that have a rollup to read: the same whole-hour rule.
    const perFeature = (rows: AnalyticsEvent[]) => {
      const out = new Map<string, { events: number; users: Set<string> }>();
      for (const r of rows) {
        const f = out.get(r.feature_id) ?? { events: 0, users: new Set<string>() };
        f.events++;
        f.users.add(r.user_id);
        out.set(r.feature_id, f);
      }
      return out;
    };
    const topRows = (name: string) =>
      Object.fromEntries(
        (
          (before[name]?.data ?? []) as Array<{ feature_id: string; events: number; unique_users: number }>
        ).map((r) => [r.feature_id, [Number(r.events), Number(r.unique_users)]]),
      );
    const expectTop = (rows: AnalyticsEvent[]) =>
      Object.fromEntries([...perFeature(rows)].map(([f, v]) => [f, [v.events, v.users.size]]));
    expect(topRows('topOld')).toEqual(expectTop(within(s - (s % HOUR), e - (e % HOUR) + HOUR - 1000)));
    // 120 days back: mid (across the horizon) and recent; nothing lies near the window's start.
    const straddle = within(NOW - 120 * DAY, NOW);
    expect(straddle.length).toBe(mid.length + recent.length);
    expect(topRows('topStraddle')).toEqual(expectTop(straddle));
    const users = (rows: AnalyticsEvent[], f?: string) =>
      new Set(rows.filter((r) => !f || r.feature_id === f).map((r) => r.user_id));
    const a = users(straddle, 'feature_search');
    const b = users(straddle, 'feature_export');
    const cross = ((before.crossStraddle?.data ?? []) as Array<Record<string, unknown>>)[0];
    expect([cross?.users_a, cross?.users_b, cross?.users_both, cross?.active_users]).toEqual([
      a.size,
      b.size,
      [...a].filter((u) => b.has(u)).length,
      users(straddle).size,
    ]);
    // Adoption: the window (60 days: recent) against the previous 60 (mid, across the horizon).
    const adoption = Object.fromEntries(
      ((before.adoptionStraddle?.data ?? []) as Array<Record<string, unknown>>).map((r) => [
        r.feature_id,
        [r.unique_users, r.previous_unique_users],
      ]),
    );
    const current = within(NOW - 60 * DAY, NOW);
    const previous = within(NOW - 120 * DAY, NOW - 60 * DAY);
    const features = new Set([...current, ...previous].map((r) => r.feature_id));
    expect(adoption).toEqual(
      Object.fromEntries([...features].map((f) => [f, [users(current, f).size, users(previous, f).size]])),
    );
  });

  it('expires the old raw events: the TTL drops their parts, recent rows stay', async () => {
    const applied = await applyConfiguredRetention(
      fixture.storage.admin,
      { RAW_RETENTION_DAYS: RETENTION, QUARANTINE_RETENTION_DAYS: 30 },
      SINGLE,
    );
    expect(applied).toContain(
      `ALTER TABLE feature_events MODIFY TTL timestamp + toIntervalDay(${RETENTION})`,
    );
    await fixture.storage.admin.command({ query: 'OPTIMIZE TABLE feature_events FINAL' });
    expect(await count(OLD_PERIOD)).toBe(0);
    // Every row from the horizon on is kept (older rows of a part that is not wholly expired
    // may stay until it is: ttl_only_drop_parts).
    const horizon = rawHorizon(Date.now(), RETENTION) as number;
    expect(await count(`timestamp >= '${formatTs(horizon)}'`)).toBe(
      [...mid, ...recent].filter((r) => parseTs(r.timestamp) >= horizon).length,
    );
    // The rollups keep the expired period.
    const rs = await fixture.storage.admin.query({
      query: `SELECT sum(events) AS n FROM feature_usage_hourly WHERE hour < '${formatTs(NOW - 150 * DAY)}'`,
      format: 'JSONEachRow',
    });
    expect(Number((await rs.json<{ n: string }>())[0]?.n)).toBe(old.length);
  });

  it('every endpoint answers as before', async () => {
    for (const [name, path] of Object.entries(requests()))
      expect(await answer(path), name).toEqual(before[name]);
  });

  it('quarantined rows expire after QUARANTINE_RETENTION_DAYS, by arrival', async () => {
    const { admin } = fixture.storage;
    await admin.command({
      query: `INSERT INTO feature_events_quarantine (raw, c__error_column, c__error, insertion_date) VALUES
        ('old', ['x'], ['bad'], '${formatTs(NOW - 40 * DAY)}'), ('new', ['x'], ['bad'], '${formatTs(NOW - 2 * DAY)}')`,
    });
    await admin.command({ query: 'OPTIMIZE TABLE feature_events_quarantine FINAL' });
    const rs = await admin.query({
      query: 'SELECT raw FROM feature_events_quarantine',
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ raw: 'new' }]);
  });
});
