import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeeklyReport, type CallPipe, type Row } from '../scripts/weekly-report/build.js';
import { isoWeekOf, parseIsoWeek, previousWeek } from '../scripts/weekly-report/iso-week.js';
import { renderWeeklyReport } from '../scripts/weekly-report/render.js';
import { TokenStore } from '../src/auth/index.js';
import { createPipesApp } from '../src/http/pipes-route.js';
import { type AnalyticsEvent, generateAnalyticsEvents } from './helpers/analytics-events.js';
import * as want from './helpers/analytics-expected.js';
import { openPipesFixture, type PipesFixture } from './helpers/pipes-fixture.js';

const ts = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

describe('ISO weeks', () => {
  it('parses weeks, including those that start in the previous year and week 53', () => {
    const cases: [string, string, string][] = [
      ['2026-W46', '2026-11-09 00:00:00', '2026-11-15 23:59:59'],
      ['2026-W01', '2025-12-29 00:00:00', '2026-01-04 23:59:59'],
      ['2020-W53', '2020-12-28 00:00:00', '2021-01-03 23:59:59'],
      ['2021-W01', '2021-01-04 00:00:00', '2021-01-10 23:59:59'],
    ];
    for (const [label, start, end] of cases) {
      const w = parseIsoWeek(label);
      expect(w && [ts(w.start), ts(w.end)], label).toEqual([start, end]);
    }
  });

  it('refuses malformed and non-existent weeks', () => {
    for (const bad of ['2026-46', '2026-W00', '2025-W53', '2026-W7', 'W46', '2026-W46x']) {
      expect(parseIsoWeek(bad), bad).toBeUndefined();
    }
  });

  it('finds the week of a day and the week before', () => {
    expect(isoWeekOf(Date.UTC(2026, 10, 15, 23, 59, 59)).label).toBe('2026-W46');
    expect(isoWeekOf(Date.UTC(2027, 0, 1)).label).toBe('2026-W53');
    expect(previousWeek(parseIsoWeek('2026-W01') as never).label).toBe('2025-W52');
  });
});

// The report through the pipes' public surface, over generated events, checked against the
// TypeScript computations of the same definitions.
const NOW = Date.now();
let fixture: PipesFixture;
let events: AnalyticsEvent[];
let call: CallPipe;

beforeAll(async () => {
  events = generateAnalyticsEvents({ now: NOW, seed: 5 });
  fixture = await openPipesFixture(
    'weekly-report',
    events.map((e) => JSON.stringify(e)),
  );
  const tokens = new TokenStore([{ name: 'admin', token: 't', scopes: [{ type: 'ADMIN' }] }]);
  const app = new Hono().route(
    '/v0/pipes',
    createPipesApp({ client: fixture.storage.admin, pipes: fixture.pipes, tokens }),
  );
  call = async (pipe, params) => {
    const res = await app.request(`/v0/pipes/${pipe}.json?${new URLSearchParams(params)}`, {
      headers: { Authorization: 'Bearer t' },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { data: Row[] }).data;
  };
});

afterAll(async () => {
  await fixture?.close();
});

describe('weekly report', () => {
  it("has the week's active users, adoption with its change, top versions and churn signals", async () => {
    const week = previousWeek(isoWeekOf(NOW));
    const report = await buildWeeklyReport(week, call);
    const w = { start: want.formatTs(week.start), end: want.formatTs(week.end) };
    const inWeek = events.filter((e) => e.timestamp >= w.start && e.timestamp <= w.end);
    expect(report.active_users).toBe(new Set(inWeek.map((e) => e.user_id)).size);
    expect(report.events).toBe(inWeek.length);
    expect(report.adoption.map((r) => [r.feature_id, r.unique_users, r.previous_unique_users])).toEqual(
      want
        .featureAdoption(events, w, { limit: 1000 }, NOW)
        .map((r) => [r.feature_id, r.unique_users, r.previous_unique_users]),
    );
    const versions = new Map<string, number>();
    for (const e of inWeek) versions.set(e.product_version, (versions.get(e.product_version) ?? 0) + 1);
    expect(report.top_versions.map((v) => [v.product_version, v.events])).toEqual(
      [...versions].sort(([va, a], [vb, b]) => b - a || (va < vb ? -1 : 1)).slice(0, 5),
    );
    const churn = (by: 'user' | 'account') =>
      want.churnSignals(events, w, { by, limit: 20 }, NOW).map((r) => [r.subject_id, r.signal]);
    expect(report.churn.users.map((r) => [r.subject_id, r.signal])).toEqual(churn('user'));
    expect(report.churn.accounts.map((r) => [r.subject_id, r.signal])).toEqual(churn('account'));
    expect(report.churn.users.length).toBeGreaterThan(0);
    const md = renderWeeklyReport(report);
    expect(md).toContain(`# Weekly product report: ${week.label}`);
    expect(md).toContain(`**Active users:** ${report.active_users.toLocaleString('en')}`);
    const first = report.adoption[0] as Row;
    expect(md).toContain(`| ${first.feature_id} | ${Number(first.unique_users).toLocaleString('en')} |`);
  });

  it('says "none" for a week without events', async () => {
    const report = await buildWeeklyReport(parseIsoWeek('2001-W05') as never, call);
    expect(report).toMatchObject({ active_users: 0, events: 0, adoption: [], top_versions: [] });
    expect(renderWeeklyReport(report)).toContain('_none_');
  });
});
