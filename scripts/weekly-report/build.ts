/**
 * The weekly report of seed 004, built only from the pipes (the same answers the API gives):
 * active users, adoption per feature with the change against the week before, the top
 * product versions, and churn signals of users and accounts.
 */
import { formatTs } from '../generate-events.js';
import { type IsoWeek, previousWeek } from './iso-week.js';

export type Row = Record<string, unknown>;
/** Calls one pipe (.json) with parameters and returns its data rows. */
export type CallPipe = (pipe: string, params: Record<string, string>) => Promise<Row[]>;

export interface WeeklyReport {
  week: string;
  start: string;
  end: string;
  previous_week: string;
  active_users: number;
  events: number;
  adoption: Row[];
  top_versions: { product_version: string; events: number; share_of_events: number }[];
  churn: { users: Row[]; accounts: Row[] };
}

export async function buildWeeklyReport(
  week: IsoWeek,
  call: CallPipe,
  opts: { churnLimit?: number; versions?: number } = {},
): Promise<WeeklyReport> {
  const window = { start_date: formatTs(week.start), end_date: formatTs(week.end) };
  const churnLimit = String(opts.churnLimit ?? 20);
  const [adoption, summary, users, accounts] = await Promise.all([
    call('feature_adoption', { ...window, limit: '1000' }),
    call('feature_usage_summary', window),
    call('churn_signals', { ...window, by: 'user', limit: churnLimit }),
    call('churn_signals', { ...window, by: 'account', limit: churnLimit }),
  ]);
  // Events per version over all features: the summary answers per feature and version.
  const perVersion = new Map<string, number>();
  let events = 0;
  for (const r of summary) {
    const n = Number(r.events);
    events += n;
    perVersion.set(String(r.product_version), (perVersion.get(String(r.product_version)) ?? 0) + n);
  }
  const top_versions = [...perVersion]
    .sort(([va, a], [vb, b]) => b - a || (va < vb ? -1 : 1))
    .slice(0, opts.versions ?? 5)
    .map(([product_version, n]) => ({ product_version, events: n, share_of_events: n / events }));
  return {
    week: week.label,
    start: window.start_date,
    end: window.end_date,
    previous_week: previousWeek(week).label,
    // Every adoption row carries the week's active users; none when the week had no events.
    active_users: Number(adoption[0]?.active_users ?? 0),
    events,
    adoption: adoption.filter((r) => Number(r.unique_users) > 0 || Number(r.previous_unique_users) > 0),
    top_versions,
    churn: { users, accounts },
  };
}
