import type { Row, WeeklyReport } from './build.js';

const num = (v: unknown) => Number(v ?? 0).toLocaleString('en');
const pct = (v: unknown) => (v === null || v === undefined ? 'n/a' : `${Number(v).toFixed(2)} %`);
const signed = (v: unknown) =>
  v === null || v === undefined ? 'new' : `${Number(v) > 0 ? '+' : ''}${Number(v).toFixed(2)} %`;

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '_none_\n';
  return `| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`;
}

const churnRows = (rows: Row[]) =>
  rows.map((r) => [
    String(r.subject_id),
    String(r.signal),
    num(r.previous_events),
    num(r.current_events),
    signed(r.change_pct),
  ]);

/** The report as Markdown: what a product team reads on Monday. */
export function renderWeeklyReport(r: WeeklyReport): string {
  return `# Weekly product report: ${r.week}

${r.start} to ${r.end} UTC, compared with ${r.previous_week}.

- **Active users:** ${num(r.active_users)} (distinct users with any event)
- **Events:** ${num(r.events)}

## Adoption per feature

Share of the week's active users who used each feature, and the change in its users against ${r.previous_week}.

${table(
  ['feature', 'users', 'adoption', `users in ${r.previous_week}`, 'change'],
  r.adoption.map((a) => [
    String(a.feature_id),
    num(a.unique_users),
    pct(a.adoption_pct),
    num(a.previous_unique_users),
    signed(a.change_pct),
  ]),
)}
## Top product versions

${table(
  ['version', 'events', 'share'],
  r.top_versions.map((v) => [v.product_version, num(v.events), pct(100 * v.share_of_events)]),
)}
## Churn signals

NO_USAGE: used ${r.previous_week}, nothing this week. USAGE_DROP: at least 10 events in ${r.previous_week} and at most half as many this week.

### Users

${table(['user', 'signal', `events ${r.previous_week}`, `events ${r.week}`, 'change'], churnRows(r.churn.users))}
### Accounts

${table(['account', 'signal', `events ${r.previous_week}`, `events ${r.week}`, 'change'], churnRows(r.churn.accounts))}`;
}
