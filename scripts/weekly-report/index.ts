/**
 * Weekly report (seed 004) from a running service's pipes:
 *
 *   npm run report -- --week 2026-W46 [--host http://127.0.0.1:7181] [--token T] [--out reports]
 *
 * Writes <out>/weekly-<week>.md and .json. Token: --token or TB_ADMIN_TOKEN (PIPES:READ on
 * feature_adoption, feature_usage_summary and churn_signals is enough).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildWeeklyReport, type CallPipe, type Row } from './build.js';
import { isoWeekOf, parseIsoWeek, previousWeek } from './iso-week.js';
import { renderWeeklyReport } from './render.js';

const USAGE = `usage: npm run report -- [--week 2026-W46] [--host URL] [--token T] [--out DIR]
  --week   the ISO week to report (default: the last complete week)
  --host   the running service (default: TB_HOST or http://127.0.0.1:7181)
  --token  a token with PIPES:READ on feature_adoption, feature_usage_summary, churn_signals
           (default: TB_ADMIN_TOKEN)
  --out    where weekly-<week>.md and .json are written (default: reports)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      help: { type: 'boolean', short: 'h' },
      week: { type: 'string' },
      host: { type: 'string', default: process.env.TB_HOST ?? 'http://127.0.0.1:7181' },
      token: { type: 'string', default: process.env.TB_ADMIN_TOKEN ?? '' },
      out: { type: 'string', default: 'reports' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  // Default: the last complete week.
  const week = values.week ? parseIsoWeek(values.week) : previousWeek(isoWeekOf(Date.now()));
  if (!week) throw new Error(`--week: expected an ISO week such as 2026-W46, got "${values.week}"`);
  if (!values.token) throw new Error('no token: pass --token or set TB_ADMIN_TOKEN');
  const call: CallPipe = async (pipe, params) => {
    const url = new URL(`/v0/pipes/${pipe}.json`, values.host);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const res = await fetch(url, { headers: { Authorization: `Bearer ${values.token}` } });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${pipe}: HTTP ${res.status}: ${body.slice(0, 300)}`);
    return (JSON.parse(body) as { data: Row[] }).data;
  };
  process.stderr.write(`weekly report ${week.label}: asking ${values.host}\n`);
  const report = await buildWeeklyReport(week, call);
  mkdirSync(values.out, { recursive: true });
  const base = join(values.out, `weekly-${week.label}`);
  writeFileSync(`${base}.md`, renderWeeklyReport(report));
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(`wrote ${base}.md and ${base}.json\n`);
}

main().catch((err) => {
  process.stderr.write(
    `report: ${String(err instanceof Error ? err.message : err).replace(/\s*\n\s*/g, ' ')}\n`,
  );
  process.exit(1);
});
