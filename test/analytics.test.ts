import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../src/auth/index.js';
import { createPipesApp } from '../src/http/pipes-route.js';
import { type AnalyticsEvent, FEATURES, generateAnalyticsEvents } from './helpers/analytics-events.js';
import * as want from './helpers/analytics-expected.js';
import { DAY, formatTs, type Row, type Window } from './helpers/analytics-expected.js';
import { openPipesFixture, type PipesFixture } from './helpers/pipes-fixture.js';

// The analytics pipes (docs/analytics.md) end to end on embedded chDB, each compared with a
// TypeScript computation of the same definitions over the same generated events.
const ADMIN = 'admin-token';
const NOW = Date.now();
// Window edges relative to now: no event within 15 minutes of them, so the seconds between
// computing the expectation and the server's now() cannot move an event across an edge.
const EDGES = [0.5, 1, 7, 14, 28, 30, 60].map((d) => d * DAY);

let fixture: PipesFixture;
let events: AnalyticsEvent[];
let app: Hono;
let exportApp: Hono;
const EXPORT_MAX = 300;

beforeAll(async () => {
  events = generateAnalyticsEvents({ now: NOW, avoidAgo: EDGES });
  fixture = await openPipesFixture(
    'analytics-test',
    events.map((e) => JSON.stringify(e)),
  );
  const tokens = new TokenStore([{ name: 'admin', token: ADMIN, scopes: [{ type: 'ADMIN' }] }]);
  const { storage, pipes } = fixture;
  app = new Hono().route('/v0/pipes', createPipesApp({ client: storage.admin, pipes, tokens }));
  exportApp = new Hono().route(
    '/v0/pipes',
    createPipesApp({ client: storage.admin, pipes, tokens, exportMaxRows: EXPORT_MAX }),
  );
});

afterAll(async () => {
  await fixture?.close();
});

type Params = Record<string, string | number | undefined>;
const qs = (o: Params) =>
  new URLSearchParams(
    Object.entries(o)
      .filter((e): e is [string, string | number] => e[1] !== undefined)
      .map(([k, v]) => [k, String(v)]),
  ).toString();
const windowParams = (w: Window): Params => ({ start_date: w.start, end_date: w.end, interval: w.interval });

async function call(pipe: string, params: Params) {
  return app.request(`/v0/pipes${pipe ? `/${pipe}` : ''}?${qs(params)}`, {
    headers: { Authorization: `Bearer ${ADMIN}` },
  });
}
async function data(pipe: string, params: Params): Promise<Row[]> {
  const res = await call(`${pipe}.json`, params);
  const body = await res.text();
  expect(res.status, body).toBe(200);
  return (JSON.parse(body) as { data: Row[] }).data;
}

const PCT = ['adoption_pct', 'change_pct', 'retention_pct', 'both_pct_of_active', 'b_given_a_pct'];
/** Percentages come rounded to 2 decimals (share_of_events unrounded): compare within rounding. */
function expectRows(got: Row[], expected: Row[], label: string) {
  const near = got.map((row, i) => {
    const w = expected[i];
    if (!w) return row;
    const out = { ...row };
    for (const k of [...PCT, 'share_of_events']) {
      const a = row[k];
      const b = w[k];
      const tolerance = k === 'share_of_events' ? 1e-9 : 0.005 + 1e-9;
      if (typeof a === 'number' && typeof b === 'number' && Math.abs(a - b) <= tolerance) out[k] = b;
    }
    return out;
  });
  expect(near, label).toEqual(expected);
}

const ts = (daysAgo: number, extraSeconds = 0) =>
  formatTs(Math.floor((NOW - daysAgo * DAY) / 1000) * 1000 + extraSeconds * 1000);
// Windows: explicit (not on hour boundaries), edged on events' own seconds, only one bound,
// look-backs, the default, and windows with nothing in them.
function windows(): Window[] {
  const a = events[500] as AnalyticsEvent;
  const b = events[events.length - 700] as AnalyticsEvent;
  const [lo, hi] = a.timestamp < b.timestamp ? [a, b] : [b, a];
  return [
    {},
    { interval: '7 day' },
    { interval: '2 week' },
    { interval: '12 hours' },
    { start: ts(20, 17), end: ts(6, -1234) },
    { start: lo.timestamp, end: hi.timestamp },
    { start: ts(10, 5) },
    { end: ts(40, 77), interval: '30 day' },
    { start: '2001-01-01 00:00:00', end: '2001-02-01 00:00:00' },
    { start: ts(-1), end: ts(-5) },
  ];
}

/** Compares a pipe with its computation for every window and every option set; returns the rows seen. */
async function compareOverWindows<O extends object>(
  pipe: string,
  options: O[],
  params: (o: O) => Params,
  expected: (w: Window, o: O, now: number) => Row[],
): Promise<number> {
  let rows = 0;
  for (const w of windows()) {
    for (const o of options) {
      const got = await data(pipe, { ...windowParams(w), ...params(o) });
      expectRows(got, expected(w, o, Date.now()), `${pipe} ${JSON.stringify(w)} ${JSON.stringify(o)}`);
      rows += got.length;
    }
  }
  return rows;
}

describe('top_features', () => {
  it('matches the independent computation for several windows and filters', async () => {
    const rows = await compareOverWindows(
      'top_features',
      [{}, { version: '2.4.1' }, { type: 'feature_viewed', limit: 3 }],
      (o: { version?: string; type?: string; limit?: number }) => ({
        product_version: o.version,
        event_type: o.type,
        limit: o.limit,
      }),
      (w, o, now) => want.topFeatures(events, w, o, now),
    );
    expect(rows).toBeGreaterThan(0);
    expect((await data('top_features', {})).length).toBeGreaterThan(3);
  });
});

describe('feature_adoption', () => {
  it('matches for several windows, with a feature and a version filter, incl. the previous window', async () => {
    await compareOverWindows(
      'feature_adoption',
      [{}, { feature: 'feature_export' }, { version: '2.3.0', limit: 2 }],
      (o: { feature?: string; version?: string; limit?: number }) => ({
        feature_id: o.feature,
        product_version: o.version,
        limit: o.limit,
      }),
      (w, o, now) => want.featureAdoption(events, w, o, now),
    );
    const some = await data('feature_adoption', { interval: '7 day' });
    expect(some.some((r) => r.change_pct !== null)).toBe(true);
  });
});

describe('user_recent_features', () => {
  it('matches per user for the default 7 days, other look-backs and explicit windows', async () => {
    for (const user of ['usr_0', 'usr_1', 'usr_2', 'usr_3', 'usr_14', 'nobody']) {
      for (const o of [{}, { days: 1 }, { days: 30 }, { start: ts(20, 3), end: ts(2, 11) }]) {
        const got = await data('user_recent_features', {
          user_id: user,
          days: 'days' in o ? o.days : undefined,
          start_date: 'start' in o ? o.start : undefined,
          end_date: 'end' in o ? o.end : undefined,
        });
        expectRows(got, want.userRecentFeatures(events, user, o, Date.now()), `${user} ${JSON.stringify(o)}`);
      }
    }
    expect((await data('user_recent_features', { user_id: 'usr_0' })).length).toBeGreaterThan(0);
  });

  it('needs user_id; days within 1..3650', async () => {
    for (const [params, name] of [
      [{}, 'user_id'],
      [{ user_id: 'usr_0', days: 0 }, 'days'],
      [{ user_id: 'usr_0', days: 'week' }, 'days'],
    ] as [Params, string][]) {
      const res = await call('user_recent_features.json', params);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toContain(name);
    }
  });
});

describe('kpis', () => {
  it('matches today, week and month per feature, with each filter', async () => {
    for (const o of [{}, { feature: 'feature_search' }, { version: '2.4.0' }, { type: 'feature_used' }]) {
      const got = await data('kpis', {
        feature_id: o.feature,
        product_version: o.version,
        event_type: o.type,
      });
      expectRows(got, want.kpis(events, o, Date.now()), JSON.stringify(o));
    }
    expect(await data('kpis', { feature_id: 'no_such_feature' })).toEqual([]);
  });
});

describe('churn_signals', () => {
  it('matches for users and accounts, per feature and baseline, over several windows', async () => {
    type O = {
      by?: 'user' | 'account';
      feature?: string;
      minBaseline?: number;
      version?: string;
      limit?: number;
    };
    const signals = await compareOverWindows(
      'churn_signals',
      [
        {},
        { by: 'account' },
        { feature: 'feature_export', minBaseline: 3 },
        { by: 'account', minBaseline: 1, version: '2.4.1', limit: 2 },
      ] as O[],
      (o: O) => ({
        by: o.by,
        feature_id: o.feature,
        min_baseline: o.minBaseline,
        product_version: o.version,
        limit: o.limit,
      }),
      (w, o, now) => want.churnSignals(events, w, o, now),
    );
    const week = await data('churn_signals', { interval: '7 day' });
    expect(new Set(week.map((r) => r.signal))).toEqual(new Set(['NO_USAGE', 'USAGE_DROP']));
    expect(signals).toBeGreaterThan(0);
  });

  it('refuses an unknown grouping', async () => {
    const res = await call('churn_signals.json', { by: 'tenant' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/"by".*user, account/);
  });
});

describe('feature_retention', () => {
  it('matches for given cohort weeks (any day of the week) and the default', async () => {
    const thisMonday = want.monday(Date.now());
    for (const [weeksAgo, weeks, feature, dayOffset] of [
      [6, 4, 'feature_export', 0],
      [9, 8, 'feature_dark_mode', 2],
      [3, 4, 'feature_recommendations', 6],
      [1, 2, 'feature_share', 0],
    ] as [number, number, string, number][]) {
      const c = thisMonday - weeksAgo * 7 * DAY;
      const got = await data('feature_retention', {
        feature_id: feature,
        cohort_week: formatTs(c + dayOffset * DAY).slice(0, 10),
        weeks,
      });
      expectRows(got, want.featureRetention(events, feature, c, weeks), `${weeksAgo} ${weeks} ${feature}`);
    }
    // Default: the cohort whose `weeks` following weeks end with the last complete week.
    const got = await data('feature_retention', { feature_id: 'feature_search' });
    expectRows(got, want.featureRetention(events, 'feature_search', thisMonday - 5 * 7 * DAY, 4), 'default');
    expect(got.some((r) => (r.retained_users as number) > 0)).toBe(true);
    // A cohort week with no events: both groups empty, percentages null.
    const empty = await data('feature_retention', {
      feature_id: 'feature_search',
      cohort_week: '2001-01-01',
      weeks: 1,
    });
    expect(empty).toEqual([
      {
        feature_id: 'feature_search',
        group: 'used',
        week: 1,
        cohort_users: 0,
        retained_users: 0,
        retention_pct: null,
      },
      {
        feature_id: 'feature_search',
        group: 'not_used',
        week: 1,
        cohort_users: 0,
        retained_users: 0,
        retention_pct: null,
      },
    ]);
  });

  it('without feature_id answers every feature used in the cohort week, each as asked alone', async () => {
    const c = want.monday(Date.now()) - 6 * 7 * DAY;
    const params = { cohort_week: formatTs(c).slice(0, 10), weeks: 3 };
    const all = await data('feature_retention', params);
    const expected = want.featureRetentionAll(events, c, 3);
    expect(new Set(expected.map((r) => r.feature_id)).size).toBeGreaterThan(2);
    expectRows(all, expected, 'every feature');
    // A feature nobody in the cohort used has no rows here, and its own grid of zeros alone.
    const none = await data('feature_retention', { ...params, feature_id: 'no_such_feature' });
    expect(none.filter((r) => r.group === 'used').every((r) => r.cohort_users === 0)).toBe(true);
    expect(none).toHaveLength(6);
  });

  it('weeks within 1..52', async () => {
    for (const [params, name] of [
      [{ feature_id: 'f', weeks: 0 }, 'weeks'],
      [{ feature_id: 'f', weeks: 53 }, 'weeks'],
      [{ feature_id: 'f', cohort_week: '2026-02-30' }, 'cohort_week'],
    ] as [Params, string][]) {
      const res = await call('feature_retention.json', params);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toContain(name);
    }
  });
});

describe('cross_feature_usage', () => {
  it('matches for several pairs and windows', async () => {
    await compareOverWindows(
      'cross_feature_usage',
      [
        ['feature_export', 'feature_share', undefined],
        ['feature_search', 'feature_recommendations', '2.4.0'],
        ['feature_export', 'no_such_feature', undefined],
      ] as [string, string, string | undefined][],
      ([a, b, version]) => ({ feature_a: a, feature_b: b, product_version: version }),
      (w, [a, b, version], now) => want.crossFeatureUsage(events, a, b, w, { version }, now),
    );
  });
});

describe('events', () => {
  it('lists newest first with each filter, and pages by keyset without gaps or repeats', async () => {
    type O = {
      feature?: string;
      type?: string;
      user?: string;
      account?: string;
      version?: string;
      limit?: number;
      before?: [string, string];
    };
    // An event's own second as the page edge: before_timestamp alone means strictly before it.
    const edge = (events[events.length - 300] as AnalyticsEvent).timestamp;
    await compareOverWindows(
      'events',
      [
        {},
        { feature: 'feature_export', type: 'feature_used' },
        { user: 'usr_7', version: '2.4.1' },
        { account: 'acct_3', limit: 7 },
        { before: [edge, ''], limit: 50 },
      ] as O[],
      (o: O) => ({
        feature_id: o.feature,
        event_type: o.type,
        user_id: o.user,
        account_id: o.account,
        product_version: o.version,
        limit: o.limit,
        before_timestamp: o.before?.[0],
      }),
      (w, o, now) => want.eventsPage(events, w, o, now),
    );
    // Walk every page of one account's last 30 days.
    const all = want.eventsPage(events, {}, { account: 'acct_5', limit: 1e9 }, Date.now());
    const seen: Row[] = [];
    let before: [string, string] | undefined;
    for (let page = 0; page < 1000; page++) {
      const got = await data('events', {
        account_id: 'acct_5',
        limit: 97,
        before_timestamp: before?.[0],
        before_event_id: before?.[1],
      });
      seen.push(...got);
      if (got.length < 97) break;
      const last = got.at(-1) as Row;
      before = [last.timestamp as string, last.event_id as string];
    }
    expect(seen).toEqual(all);
    expect(all.length).toBeGreaterThan(200);
  });

  it('refuses before_event_id alone and a limit over 1000', async () => {
    for (const [params, name] of [
      [{ before_event_id: 'ae_000001' }, 'before_event_id'],
      [{ limit: 1001 }, 'limit'],
      [{ before_timestamp: 'yesterday' }, 'before_timestamp'],
    ] as [Params, string][]) {
      const res = await call('events.json', params);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toContain(name);
    }
  });
});

describe('events.csv, the export', () => {
  const exportCsv = async (params: Params) => {
    const res = await exportApp.request(`/v0/pipes/events.csv?${qs(params)}`, {
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const [header, ...lines] = text.trim().split('\n');
    return { res, header, ids: lines.map((l) => JSON.parse(l.split(',')[1] as string) as string) };
  };

  it('takes any limit, stops at EXPORT_MAX_ROWS and says so in a header', async () => {
    const all = want.eventsPage(events, {}, { limit: 1e9 }, Date.now());
    expect(all.length).toBeGreaterThan(EXPORT_MAX);
    const big = await exportCsv({ limit: 1_000_000 });
    expect(big.res.headers.get('x-export-capped')).toBe('true');
    expect(big.res.headers.get('x-export-max-rows')).toBe(String(EXPORT_MAX));
    expect(big.res.headers.get('content-type')).toMatch(/text\/csv/);
    expect(big.header).toBe(
      '"timestamp","event_id","user_id","account_id","feature_id","product_version","event_type","session_id","metadata"',
    );
    expect(big.ids).toEqual(all.slice(0, EXPORT_MAX).map((r) => r.event_id));
    // Under the cap: everything asked for, not capped; filters and window as in .json.
    const few = await exportCsv({ limit: 50, feature_id: 'feature_share', interval: '7 day' });
    expect(few.res.headers.get('x-export-capped')).toBe('false');
    expect(few.ids).toEqual(
      want
        .eventsPage(events, { interval: '7 day' }, { feature: 'feature_share', limit: 50 }, Date.now())
        .map((r) => r.event_id),
    );
    const account = want.eventsPage(events, {}, { account: 'acct_1', limit: 1e9 }, Date.now());
    expect(account.length).toBeLessThan(EXPORT_MAX);
    const exact = await exportCsv({ limit: 5000, account_id: 'acct_1' });
    expect(exact.res.headers.get('x-export-capped')).toBe('false');
    expect(exact.ids).toEqual(account.map((r) => r.event_id));
    // The page formats keep their bound.
    expect((await call('events.json', { limit: 5000 })).status).toBe(400);
  });
});

describe('the window parameters', () => {
  it('are refused when malformed or reversed, naming the parameter', async () => {
    for (const pipe of ['top_features', 'feature_adoption', 'churn_signals', 'events']) {
      for (const [params, name] of [
        [{ interval: '7 fortnights' }, 'interval'],
        [{ start_date: '2026-02-30 00:00:00' }, 'start_date'],
        [{ start_date: '2026-11-02 00:00:00', end_date: '2026-11-01 00:00:00' }, 'start_date'],
      ] as [Params, string][]) {
        const res = await call(`${pipe}.json`, params);
        expect(res.status, `${pipe} ${JSON.stringify(params)}`).toBe(400);
        expect(((await res.json()) as { error: string }).error).toContain(name);
      }
    }
  });

  it('are listed in /v0/pipes and the OpenAPI document for every analytics pipe', async () => {
    const list = (await (await call('', {})).json()) as {
      pipes: { name: string; parameters: { name: string }[] }[];
    };
    const names = new Map(list.pipes.map((p) => [p.name, p.parameters.map((x) => x.name)]));
    for (const pipe of [
      'top_features',
      'feature_adoption',
      'churn_signals',
      'cross_feature_usage',
      'events',
    ]) {
      expect(names.get(pipe), pipe).toEqual(expect.arrayContaining(['start_date', 'end_date', 'interval']));
    }
    const doc = (await (await call('openapi.json', {})).json()) as {
      paths: Record<
        string,
        {
          get: {
            parameters: { name: string; required: boolean; schema: Row }[];
            responses: {
              200: {
                content: Record<string, { schema: { properties: { data: { items: { properties: Row } } } } }>;
              };
            };
          };
        }
      >;
    };
    const columns = (pipe: string) =>
      Object.keys(
        doc.paths[`/pipes/${pipe}.json`]?.get.responses[200].content['application/json']?.schema.properties
          .data.items.properties ?? {},
      );
    expect(columns('top_features')).toEqual(['feature_id', 'events', 'unique_users', 'share_of_events']);
    expect(columns('feature_adoption')).toEqual([
      'feature_id',
      'unique_users',
      'active_users',
      'adoption_pct',
      'previous_unique_users',
      'change_pct',
    ]);
    expect(columns('user_recent_features')).toEqual(['feature_id', 'events', 'last_used']);
    expect(columns('kpis')).toEqual([
      'feature_id',
      'events_today',
      'events_week',
      'events_month',
      'users_today',
      'users_week',
      'users_month',
    ]);
    expect(columns('churn_signals')).toEqual([
      'subject',
      'subject_id',
      'signal',
      'previous_events',
      'current_events',
      'change_pct',
    ]);
    expect(columns('feature_retention')).toEqual([
      'feature_id',
      'group',
      'week',
      'cohort_users',
      'retained_users',
      'retention_pct',
    ]);
    expect(columns('cross_feature_usage')).toEqual([
      'feature_a',
      'feature_b',
      'users_a',
      'users_b',
      'users_both',
      'active_users',
      'both_pct_of_active',
      'b_given_a_pct',
    ]);
    expect(columns('events')).toEqual([
      'timestamp',
      'event_id',
      'user_id',
      'account_id',
      'feature_id',
      'product_version',
      'event_type',
      'session_id',
      'metadata',
    ]);
    const param = (pipe: string, name: string) =>
      doc.paths[`/pipes/${pipe}.json`]?.get.parameters.find((x) => x.name === name);
    expect(param('events', 'limit')?.schema).toMatchObject({ type: 'integer', default: 100, maximum: 1000 });
    expect(param('feature_retention', 'feature_id')?.required).toBeFalsy();
    expect(param('churn_signals', 'by')?.schema).toMatchObject({
      enum: ['user', 'account'],
      default: 'user',
    });
    expect(param('feature_usage_timeline', 'feature_id')?.schema).toMatchObject({ type: 'array' });
    expect(FEATURES.length).toBeGreaterThan(2);
  });
});
