/**
 * The analytics pipes' answers computed in plain TypeScript over the generated events: an
 * independent computation (no SQL) that test/analytics.test.ts compares each pipe with.
 * Definitions as in docs/analytics.md.
 */
import type { AnalyticsEvent } from './analytics-events.js';
import { formatTs, parseTs } from './generate-events.js';

export type Row = Record<string, unknown>;
export const DAY = 86_400_000;
export interface Window {
  start?: string;
  end?: string;
  interval?: string;
}
interface Bounds {
  ws: number;
  we: number;
  ps: number;
  pe: number;
}

/** [start, end] in ms (inclusive) and the previous window of the same length. */
export function bounds(w: Window, now: number): Bounds {
  const we = w.end ? parseTs(w.end) : Math.floor(now / 1000) * 1000;
  let ws: number;
  if (w.start) ws = parseTs(w.start);
  else {
    const [n, unit] = (w.interval ?? '30 day').split(' ') as [string, string];
    const k = Number(n);
    if (unit.startsWith('hour')) ws = we - k * 3_600_000;
    else if (unit.startsWith('day')) ws = we - k * DAY;
    else if (unit.startsWith('week')) ws = we - k * 7 * DAY;
    else {
      const d = new Date(we);
      ws = Date.UTC(
        d.getUTCFullYear(),
        d.getUTCMonth() - k,
        d.getUTCDate(),
        d.getUTCHours(),
        d.getUTCMinutes(),
        d.getUTCSeconds(),
      );
    }
  }
  const length = we - ws + 1000;
  return { ws, we, ps: ws - length, pe: ws - 1000 };
}

const ms = (e: AnalyticsEvent) => parseTs(e.timestamp);
const within = (e: AnalyticsEvent, from: number, to: number) => ms(e) >= from && ms(e) <= to;
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const pct = (num: number, den: number) => (den === 0 ? null : (100 * num) / den);
const group = <T>(xs: T[], key: (x: T) => string) => {
  const m = new Map<string, T[]>();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
};
const users = (es: AnalyticsEvent[]) => new Set(es.map((e) => e.user_id)).size;

export function topFeatures(
  events: AnalyticsEvent[],
  w: Window,
  o: { version?: string; type?: string; limit?: number },
  now: number,
): Row[] {
  const b = bounds(w, now);
  const rows = events.filter(
    (e) =>
      within(e, b.ws, b.we) &&
      (!o.version || e.product_version === o.version) &&
      (!o.type || e.event_type === o.type),
  );
  return [...group(rows, (e) => e.feature_id)]
    .map(([feature_id, es]) => ({
      feature_id,
      events: es.length,
      unique_users: users(es),
      share_of_events: es.length / rows.length,
    }))
    .sort((a, b) => b.events - a.events || cmp(a.feature_id, b.feature_id))
    .slice(0, o.limit ?? 10);
}

export function featureAdoption(
  events: AnalyticsEvent[],
  w: Window,
  o: { feature?: string; version?: string; limit?: number },
  now: number,
): Row[] {
  const b = bounds(w, now);
  const versioned = events.filter((e) => !o.version || e.product_version === o.version);
  const active = users(versioned.filter((e) => within(e, b.ws, b.we)));
  const relevant = versioned.filter(
    (e) => within(e, b.ps, b.we) && (!o.feature || e.feature_id === o.feature),
  );
  return [...group(relevant, (e) => e.feature_id)]
    .map(([feature_id, es]) => {
      const unique = users(es.filter((e) => ms(e) >= b.ws));
      const previous = users(es.filter((e) => ms(e) <= b.pe));
      return {
        feature_id,
        unique_users: unique,
        active_users: active,
        adoption_pct: pct(unique, active),
        previous_unique_users: previous,
        change_pct: pct(unique - previous, previous),
      };
    })
    .sort((a, b) => b.unique_users - a.unique_users || cmp(a.feature_id, b.feature_id))
    .slice(0, o.limit ?? 100);
}

export function userRecentFeatures(
  events: AnalyticsEvent[],
  user: string,
  o: { days?: number; start?: string; end?: string },
  now: number,
): Row[] {
  const from = o.start ? parseTs(o.start) : Math.floor(now / 1000) * 1000 - (o.days ?? 7) * DAY;
  const to = o.end ? parseTs(o.end) : now;
  const rows = events.filter((e) => e.user_id === user && within(e, from, to));
  return [...group(rows, (e) => e.feature_id)]
    .map(([feature_id, es]) => ({
      feature_id,
      events: es.length,
      last_used: es
        .map((e) => e.timestamp)
        .sort()
        .at(-1),
    }))
    .sort((a, b) => cmp(b.last_used as string, a.last_used as string) || cmp(a.feature_id, b.feature_id));
}

export function kpis(
  events: AnalyticsEvent[],
  o: { feature?: string; version?: string; type?: string },
  now: number,
): Row[] {
  const today = Math.floor(now / DAY) * DAY;
  const week = today - 6 * DAY;
  const month = today - 29 * DAY;
  const rows = events.filter(
    (e) =>
      within(e, month, now) &&
      (!o.feature || e.feature_id === o.feature) &&
      (!o.version || e.product_version === o.version) &&
      (!o.type || e.event_type === o.type),
  );
  return [...group(rows, (e) => e.feature_id)]
    .sort(([a], [b]) => cmp(a, b))
    .map(([feature_id, es]) => {
      const t = es.filter((e) => ms(e) >= today);
      const wk = es.filter((e) => ms(e) >= week);
      return {
        feature_id,
        events_today: t.length,
        events_week: wk.length,
        events_month: es.length,
        users_today: users(t),
        users_week: users(wk),
        users_month: users(es),
      };
    });
}

export function churnSignals(
  events: AnalyticsEvent[],
  w: Window,
  o: { by?: 'user' | 'account'; feature?: string; minBaseline?: number; version?: string; limit?: number },
  now: number,
): Row[] {
  const b = bounds(w, now);
  const by = o.by ?? 'user';
  const subject = (e: AnalyticsEvent) => (by === 'account' ? e.account_id : e.user_id);
  const rows = events.filter(
    (e) =>
      within(e, b.ps, b.we) &&
      subject(e) !== '' &&
      (!o.feature || e.feature_id === o.feature) &&
      (!o.version || e.product_version === o.version),
  );
  const out: Row[] = [];
  for (const [subject_id, es] of group(rows, subject)) {
    const previous = es.filter((e) => ms(e) <= b.pe).length;
    const current = es.filter((e) => ms(e) >= b.ws).length;
    const signal =
      previous > 0 && current === 0
        ? 'NO_USAGE'
        : previous >= (o.minBaseline ?? 10) && current > 0 && current * 2 <= previous
          ? 'USAGE_DROP'
          : undefined;
    if (!signal) continue;
    out.push({
      subject: by,
      subject_id,
      signal,
      previous_events: previous,
      current_events: current,
      change_pct: pct(current - previous, previous),
    });
  }
  return out
    .sort(
      (a, b) =>
        (b.previous_events as number) - (a.previous_events as number) ||
        cmp(a.subject_id as string, b.subject_id as string),
    )
    .slice(0, o.limit ?? 1000);
}

/** The Monday 00:00 UTC of the ISO week containing ms. */
export const monday = (t: number) => {
  const day = Math.floor(t / DAY) * DAY;
  return day - ((new Date(day).getUTCDay() + 6) % 7) * DAY;
};

export function featureRetention(
  events: AnalyticsEvent[],
  feature: string,
  cohortMonday: number,
  weeks: number,
): Row[] {
  const weekOf = (e: AnalyticsEvent) => Math.floor((ms(e) - cohortMonday) / (7 * DAY));
  const cohort = events.filter((e) => weekOf(e) === 0);
  const used = new Set(cohort.filter((e) => e.feature_id === feature).map((e) => e.user_id));
  const all = new Set(cohort.map((e) => e.user_id));
  const groups: [string, Set<string>][] = [
    ['used', used],
    ['not_used', new Set([...all].filter((u) => !used.has(u)))],
  ];
  const out: Row[] = [];
  for (const [name, members] of groups) {
    for (let k = 1; k <= weeks; k++) {
      const retained = new Set(
        events.filter((e) => weekOf(e) === k && members.has(e.user_id)).map((e) => e.user_id),
      ).size;
      out.push({
        feature_id: feature,
        group: name,
        week: k,
        cohort_users: members.size,
        retained_users: retained,
        retention_pct: pct(retained, members.size),
      });
    }
  }
  return out;
}

/** Without feature_id: every feature used by the cohort in the cohort week, in feature order. */
export function featureRetentionAll(events: AnalyticsEvent[], cohortMonday: number, weeks: number): Row[] {
  const weekOf = (e: AnalyticsEvent) => Math.floor((ms(e) - cohortMonday) / (7 * DAY));
  const features = [...new Set(events.filter((e) => weekOf(e) === 0).map((e) => e.feature_id))].sort();
  return features.flatMap((f) => featureRetention(events, f, cohortMonday, weeks));
}

export function crossFeatureUsage(
  events: AnalyticsEvent[],
  a: string,
  bf: string,
  w: Window,
  o: { version?: string },
  now: number,
): Row[] {
  const b = bounds(w, now);
  const rows = events.filter((e) => within(e, b.ws, b.we) && (!o.version || e.product_version === o.version));
  const per = group(rows, (e) => e.user_id);
  let ua = 0;
  let ub = 0;
  let both = 0;
  for (const es of per.values()) {
    const x = es.some((e) => e.feature_id === a);
    const y = es.some((e) => e.feature_id === bf);
    ua += Number(x);
    ub += Number(y);
    both += Number(x && y);
  }
  return [
    {
      feature_a: a,
      feature_b: bf,
      users_a: ua,
      users_b: ub,
      users_both: both,
      active_users: per.size,
      both_pct_of_active: pct(both, per.size),
      b_given_a_pct: pct(both, ua),
    },
  ];
}

export function eventsPage(
  events: AnalyticsEvent[],
  w: Window,
  o: {
    feature?: string;
    type?: string;
    user?: string;
    account?: string;
    version?: string;
    before?: [string, string];
    limit?: number;
  },
  now: number,
): Row[] {
  const b = bounds(w, now);
  return events
    .filter(
      (e) =>
        within(e, b.ws, b.we) &&
        (!o.feature || e.feature_id === o.feature) &&
        (!o.type || e.event_type === o.type) &&
        (!o.user || e.user_id === o.user) &&
        (!o.account || e.account_id === o.account) &&
        (!o.version || e.product_version === o.version) &&
        (!o.before || e.timestamp < o.before[0] || (e.timestamp === o.before[0] && e.event_id < o.before[1])),
    )
    .sort((x, y) => cmp(y.timestamp, x.timestamp) || cmp(y.event_id, x.event_id))
    .slice(0, o.limit ?? 100)
    .map((e) => ({
      timestamp: e.timestamp,
      event_id: e.event_id,
      user_id: e.user_id,
      account_id: e.account_id,
      feature_id: e.feature_id,
      product_version: e.product_version,
      event_type: e.event_type,
      session_id: e.session_id,
      metadata: e.metadata,
    }));
}

export { formatTs };
