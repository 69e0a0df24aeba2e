/**
 * The analytics pipes (docs/analytics.md) in the bench: the parameters each call sends, the
 * same question in PostgreSQL, and the budget of issue 10 each is held to. Windows are explicit
 * (start_date/end_date ending at the data's end) so both systems answer the same question.
 */
import { formatTs, type Generator } from '../generate-events.js';

export const ANALYTICS_PIPES = [
  'top_features',
  'feature_adoption',
  'user_recent_features',
  'kpis',
  'churn_signals',
  'feature_retention',
  'cross_feature_usage',
  'events',
] as const;
export type AnalyticsPipe = (typeof ANALYTICS_PIPES)[number];

/** Uncached 1-client p95 budget (ms) and whether the pipe must be >= 20x PostgreSQL. */
export const ANALYTICS_BUDGETS: Record<AnalyticsPipe, { p95: number; vsPg: boolean; kind: string }> = {
  top_features: { p95: 300, vsPg: true, kind: 'window aggregation' },
  feature_adoption: { p95: 300, vsPg: true, kind: 'window aggregation' },
  user_recent_features: { p95: 25, vsPg: false, kind: 'per-user lookup' },
  kpis: { p95: 300, vsPg: true, kind: 'window aggregation' },
  churn_signals: { p95: 300, vsPg: true, kind: 'window aggregation' },
  feature_retention: { p95: 500, vsPg: false, kind: 'retention' },
  cross_feature_usage: { p95: 300, vsPg: true, kind: 'window aggregation' },
  events: { p95: 25, vsPg: false, kind: 'per-key lookup' },
};

const DAY = 86_400_000;
type Params = Record<string, string>;

/** The i-th call's parameters: the same sequence for our pipes and PostgreSQL. */
export function analyticsParams(pipe: AnalyticsPipe, gen: Generator, endMs: number, i: number): Params {
  const end = formatTs(endMs);
  const since = (days: number) => formatTs(endMs - days * DAY + 1000);
  const feature = gen.sampleFeature();
  switch (pipe) {
    case 'top_features':
      return i % 2
        ? { start_date: since(30), end_date: end, event_type: 'feature_used' }
        : { start_date: since(30), end_date: end };
    case 'feature_adoption':
      return { start_date: since(7), end_date: end };
    case 'user_recent_features':
      return { user_id: gen.sampleUser(), start_date: since(7), end_date: end };
    case 'kpis':
      return i % 2 ? { feature_id: feature } : {};
    case 'churn_signals':
      return i % 2
        ? { start_date: since(7), end_date: end, feature_id: feature }
        : { start_date: since(7), end_date: end };
    case 'feature_retention': {
      const monday = Math.floor(endMs / DAY) * DAY - (((new Date(endMs).getUTCDay() + 6) % 7) + 35) * DAY;
      return { feature_id: feature, cohort_week: formatTs(monday).slice(0, 10), weeks: '4' };
    }
    case 'cross_feature_usage':
      return { feature_a: feature, feature_b: gen.sampleFeature(), start_date: since(7), end_date: end };
    case 'events':
      return i % 2
        ? { user_id: gen.sampleUser(), start_date: since(30), end_date: end, limit: '100' }
        : { feature_id: feature, start_date: since(30), end_date: end, limit: '100' };
  }
}

const prevStart = (p: Params) => {
  const s = Date.parse(`${p.start_date?.replace(' ', 'T')}Z`);
  const e = Date.parse(`${p.end_date?.replace(' ', 'T')}Z`);
  return [formatTs(s - (e - s + 1000)), formatTs(s - 1000)];
};

/** The same question in PostgreSQL (plain SQL over the same rows, indexes as in postgres.ts). */
export function analyticsPg(pipe: AnalyticsPipe, p: Params): { text: string; values: unknown[] } {
  switch (pipe) {
    case 'top_features':
      return {
        text: `SELECT feature_id, count(*) AS events, count(DISTINCT user_id) AS unique_users,
            count(*)::float8 / sum(count(*)) OVER () AS share_of_events
          FROM feature_events WHERE "timestamp" BETWEEN $1 AND $2 AND ($3::text IS NULL OR event_type = $3)
          GROUP BY feature_id ORDER BY events DESC, feature_id LIMIT 10`,
        values: [p.start_date, p.end_date, p.event_type ?? null],
      };
    case 'feature_adoption': {
      const [ps, pe] = prevStart(p);
      return {
        text: `SELECT feature_id,
            count(DISTINCT user_id) FILTER (WHERE "timestamp" >= $1) AS unique_users,
            (SELECT count(DISTINCT user_id) FROM feature_events WHERE "timestamp" BETWEEN $1 AND $2) AS active_users,
            count(DISTINCT user_id) FILTER (WHERE "timestamp" <= $4) AS previous_unique_users
          FROM feature_events WHERE "timestamp" BETWEEN $3 AND $2
          GROUP BY feature_id ORDER BY unique_users DESC, feature_id LIMIT 100`,
        values: [p.start_date, p.end_date, ps, pe],
      };
    }
    case 'user_recent_features':
      return {
        text: `SELECT feature_id, count(*) AS events, max("timestamp") AS last_used FROM feature_events
          WHERE user_id = $1 AND "timestamp" BETWEEN $2 AND $3 GROUP BY feature_id ORDER BY last_used DESC, feature_id`,
        values: [p.user_id, p.start_date, p.end_date],
      };
    case 'kpis':
      return {
        text: `SELECT feature_id,
            count(*) FILTER (WHERE "timestamp" >= date_trunc('day', localtimestamp)) AS events_today,
            count(*) FILTER (WHERE "timestamp" >= date_trunc('day', localtimestamp) - interval '6 day') AS events_week,
            count(*) AS events_month,
            count(DISTINCT user_id) FILTER (WHERE "timestamp" >= date_trunc('day', localtimestamp)) AS users_today,
            count(DISTINCT user_id) FILTER (WHERE "timestamp" >= date_trunc('day', localtimestamp) - interval '6 day') AS users_week,
            count(DISTINCT user_id) AS users_month
          FROM feature_events WHERE "timestamp" >= date_trunc('day', localtimestamp) - interval '29 day'
            AND "timestamp" <= localtimestamp AND ($1::text IS NULL OR feature_id = $1)
          GROUP BY feature_id ORDER BY feature_id`,
        values: [p.feature_id ?? null],
      };
    case 'churn_signals': {
      const [ps, pe] = prevStart(p);
      return {
        text: `SELECT user_id, previous_events, current_events FROM (
            SELECT user_id, count(*) FILTER (WHERE "timestamp" <= $4) AS previous_events,
              count(*) FILTER (WHERE "timestamp" >= $1) AS current_events
            FROM feature_events WHERE "timestamp" BETWEEN $3 AND $2 AND ($5::text IS NULL OR feature_id = $5)
            GROUP BY user_id) s
          WHERE previous_events > 0 AND (current_events = 0 OR (previous_events >= 10 AND current_events * 2 <= previous_events))
          ORDER BY previous_events DESC, user_id LIMIT 1000`,
        values: [p.start_date, p.end_date, ps, pe, p.feature_id ?? null],
      };
    }
    case 'feature_retention':
      return {
        text: `WITH a AS (
            SELECT user_id,
              bool_or("timestamp" < $1::timestamp + interval '7 day' AND feature_id = $2) AS used,
              array_agg(DISTINCT floor(extract(epoch FROM "timestamp" - $1::timestamp) / 604800)::int) AS weeks
            FROM feature_events
            WHERE "timestamp" >= $1::timestamp AND "timestamp" < $1::timestamp + interval '35 day'
            GROUP BY user_id)
          SELECT used, k AS week, count(*) AS cohort_users, count(*) FILTER (WHERE k = ANY(weeks)) AS retained_users
          FROM a, generate_series(1, 4) AS k WHERE 0 = ANY(weeks) GROUP BY used, k ORDER BY used DESC, k`,
        values: [p.cohort_week, p.feature_id],
      };
    case 'cross_feature_usage':
      return {
        text: `SELECT count(*) FILTER (WHERE a) AS users_a, count(*) FILTER (WHERE b) AS users_b,
            count(*) FILTER (WHERE a AND b) AS users_both, count(*) AS active_users
          FROM (SELECT user_id, bool_or(feature_id = $1) AS a, bool_or(feature_id = $2) AS b
            FROM feature_events WHERE "timestamp" BETWEEN $3 AND $4 GROUP BY user_id) s`,
        values: [p.feature_a, p.feature_b, p.start_date, p.end_date],
      };
    case 'events':
      return {
        text: `SELECT "timestamp", event_id, user_id, feature_id, product_version, event_type, session_id, metadata
          FROM feature_events WHERE "timestamp" BETWEEN $1 AND $2
            AND ($3::text IS NULL OR feature_id = $3) AND ($4::text IS NULL OR user_id = $4)
          ORDER BY "timestamp" DESC, event_id DESC LIMIT 100`,
        values: [p.start_date, p.end_date, p.feature_id ?? null, p.user_id ?? null],
      };
  }
}
