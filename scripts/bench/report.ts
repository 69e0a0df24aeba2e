/** The bench's outputs: a text table (stdout), latest.md, and an SVG bar chart drawn from a template string. */

interface Lat {
  p50: number;
  p95: number;
  p99: number;
  rps: number;
  n: number;
  errors: number;
}
type Pipe = 'user_feature_usage' | 'feature_usage_summary' | 'feature_usage_timeline';
const PIPES: Pipe[] = ['user_feature_usage', 'feature_usage_summary', 'feature_usage_timeline'];

export interface Result {
  mode: string;
  ingest_ndjson_eps_embedded: number;
  ingest_ndjson_eps_kafka: number | null;
  ingest_single_eps: number;
  freshness_p50_ms: number;
  freshness_p95_ms: number;
  pipe_p95_ms: Record<Pipe, number>;
  pipe_rps_32: Record<Pipe, number>;
  events_in_store: number;
  pg_speedup_summary: number | null;
  pg_speedup_timeline: number | null;
  pg_speedup_user: number | null;
  bytes_per_event: number;
  rss_peak_mb: number;
  /** SELECT 1 as a pipe through the same route, this run (absent in results of older runs). */
  read_floor?: {
    uncached_p50_ms: number;
    uncached_p95_ms: number;
    rps_32: number;
    rps_32_uncached: number;
    p95_32_uncached_ms: number;
    sql_select1_rps_32: number;
  };
  /** Issue 10's analytics pipes at the largest stage (absent in results of older runs). */
  analytics?: Record<string, AnalyticsRun>;
  details: {
    stages: number[];
    freshness_kafka: { p50: number; p95: number } | null;
    pipes_by_size: Record<
      string,
      Record<Pipe, { load32: Lat; load32_cache_hit_ratio?: number; serial: Lat }>
    >;
    raw_clickhouse: { table_only: { eps: number }; with_views: { eps: number } };
    postgres:
      | { ingest_eps: number; bytes_per_event: number; serial: Record<string, Record<Pipe, Lat>> }
      | { skipped: string };
    ingest: { bulk_load_eps: number | null };
  };
}

export interface AnalyticsRun {
  kind: string;
  uncached_p50_ms: number;
  uncached_p95_ms: number;
  rps_32: number;
  p95_32_ms: number;
  pg_p50_ms: number | null;
  pg_speedup: number | null;
  budget_p95_ms: number;
  needs_20x_pg: boolean;
  met: boolean;
}

/** One line per analytics pipe: [pipe, kind, uncached p50/p95, 32 clients, PostgreSQL, budget, met]. */
function analyticsRows(r: Result): string[][] {
  return Object.entries(r.analytics ?? {}).map(([pipe, a]) => [
    pipe,
    a.kind,
    `${fmt(a.uncached_p50_ms, 1)} / ${fmt(a.uncached_p95_ms, 1)} ms`,
    `${fmt(a.rps_32)} req/s, p95 ${fmt(a.p95_32_ms, 1)} ms`,
    a.pg_speedup === null ? 'n/a' : `${a.pg_speedup}x (PG p50 ${fmt(a.pg_p50_ms, 1)} ms)`,
    `p95 <= ${a.budget_p95_ms} ms${a.needs_20x_pg ? ', >= 20x PG' : ''}`,
    a.met ? 'met' : 'NOT met',
  ]);
}
const ANALYTICS_HEAD = [
  'pipe',
  'kind',
  'uncached p50 / p95',
  '32 clients, as served',
  'vs PostgreSQL',
  'budget',
  '',
];

const fmt = (x: number | null | undefined, digits = 0) =>
  x === null || x === undefined || Number.isNaN(x)
    ? 'n/a'
    : x.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a && b ? `${(a / b).toFixed(2)}x` : 'n/a';

function pgOf(r: Result) {
  const pg = r.details.postgres;
  return 'skipped' in pg ? undefined : pg;
}

interface Row {
  figure: string;
  ours: string;
  vsPg: string;
  vsRaw: string;
  target: string;
}

export interface Target {
  name: string;
  value: string;
  met: boolean | null;
}

export function targets(r: Result): Target[] {
  const largest = Math.max(...r.details.stages);
  const at10M = largest >= 10_000_000;
  const maxP95 = Math.max(...PIPES.map((p) => r.pipe_p95_ms[p]));
  const minRps = Math.min(...PIPES.map((p) => r.pipe_rps_32[p]));
  const atLargest = r.details.pipes_by_size[String(largest)];
  const maxSerialP95 = Math.max(...PIPES.map((p) => atLargest?.[p]?.serial.p95 ?? Number.NaN));
  const t = (name: string, value: string, met: boolean | null): Target => ({ name, value, met });
  return [
    t(
      'NDJSON ingest embedded >= 100,000 ev/s',
      fmt(r.ingest_ndjson_eps_embedded),
      r.ingest_ndjson_eps_embedded >= 100_000,
    ),
    t(
      'NDJSON ingest Kafka >= 50,000 ev/s',
      fmt(r.ingest_ndjson_eps_kafka),
      r.ingest_ndjson_eps_kafka === null ? null : r.ingest_ndjson_eps_kafka >= 50_000,
    ),
    t('single-event ingest >= 5,000 ev/s', fmt(r.ingest_single_eps), r.ingest_single_eps >= 5_000),
    t('freshness p95 <= 1,000 ms', `${fmt(r.freshness_p95_ms)} ms`, r.freshness_p95_ms <= 1_000),
    t(
      `pipe p95 <= 25 ms (each pipe, 32 clients, as served with the result cache, at ${fmt(largest)}${at10M ? '' : '; target is at 10M'})`,
      `${fmt(maxP95, 1)} ms (worst)`,
      maxP95 <= 25,
    ),
    t(
      `pipe p95 <= 25 ms, uncached query (each pipe, 1 client, Cache-Control: no-cache, at ${fmt(largest)})`,
      `${fmt(maxSerialP95, 1)} ms (worst)`,
      maxSerialP95 <= 25,
    ),
    t('pipe >= 500 req/s at 32 clients (each pipe)', `${fmt(minRps)} req/s (worst)`, minRps >= 500),
    t(
      'summary >= 20x faster than PostgreSQL',
      r.pg_speedup_summary === null ? 'n/a' : `${r.pg_speedup_summary}x`,
      r.pg_speedup_summary === null ? null : r.pg_speedup_summary >= 20,
    ),
    t(
      'timeline >= 20x faster than PostgreSQL',
      r.pg_speedup_timeline === null ? 'n/a' : `${r.pg_speedup_timeline}x`,
      r.pg_speedup_timeline === null ? null : r.pg_speedup_timeline >= 20,
    ),
    t('<= 20 bytes/event on disk', fmt(r.bytes_per_event, 1), r.bytes_per_event <= 20),
    t('service peak RSS <= 1,024 MiB', `${fmt(r.rss_peak_mb)} MiB`, r.rss_peak_mb <= 1024),
  ];
}

function rows(r: Result): Row[] {
  const pg = pgOf(r);
  const raw = r.details.raw_clickhouse;
  const out: Row[] = [
    {
      figure: 'NDJSON ingest, embedded (1k-row batches, ev/s)',
      ours: fmt(r.ingest_ndjson_eps_embedded),
      vsPg: ratio(r.ingest_ndjson_eps_embedded, pg?.ingest_eps),
      vsRaw: `${ratio(r.ingest_ndjson_eps_embedded, raw.with_views.eps)} (views) / ${ratio(r.ingest_ndjson_eps_embedded, raw.table_only.eps)} (table)`,
      target: '>= 100,000',
    },
    {
      figure: 'NDJSON ingest, Kafka (1k-row batches, ev/s)',
      ours: fmt(r.ingest_ndjson_eps_kafka),
      vsPg: ratio(r.ingest_ndjson_eps_kafka, pg?.ingest_eps),
      vsRaw: ratio(r.ingest_ndjson_eps_kafka, raw.with_views.eps),
      target: '>= 50,000',
    },
    {
      figure: 'single-event ingest (ev/s)',
      ours: fmt(r.ingest_single_eps),
      vsPg: '',
      vsRaw: '',
      target: '>= 5,000',
    },
  ];
  if (r.details.ingest.bulk_load_eps) {
    out.push({
      figure: 'bulk load, 25k-row batches (ev/s)',
      ours: fmt(r.details.ingest.bulk_load_eps),
      vsPg: ratio(r.details.ingest.bulk_load_eps, pg?.ingest_eps),
      vsRaw: ratio(r.details.ingest.bulk_load_eps, raw.with_views.eps),
      target: '',
    });
  }
  out.push(
    {
      figure: 'raw chDB insert, table only (ceiling, ev/s)',
      ours: fmt(raw.table_only.eps),
      vsPg: '',
      vsRaw: '',
      target: '',
    },
    {
      figure: 'raw chDB insert, with rollup views (ev/s)',
      ours: fmt(raw.with_views.eps),
      vsPg: '',
      vsRaw: '',
      target: '',
    },
    { figure: 'PostgreSQL COPY (ev/s)', ours: fmt(pg?.ingest_eps), vsPg: '', vsRaw: '', target: '' },
    {
      figure: 'freshness p50 / p95 (ms, embedded)',
      ours: `${fmt(r.freshness_p50_ms)} / ${fmt(r.freshness_p95_ms)}`,
      vsPg: '',
      vsRaw: '',
      target: 'p95 <= 1,000',
    },
  );
  if (r.details.freshness_kafka) {
    out.push({
      figure: 'freshness p50 / p95 (ms, Kafka)',
      ours: `${fmt(r.details.freshness_kafka.p50)} / ${fmt(r.details.freshness_kafka.p95)}`,
      vsPg: '',
      vsRaw: '',
      target: '',
    });
  }
  for (const size of Object.keys(r.details.pipes_by_size)) {
    for (const p of PIPES) {
      const run = r.details.pipes_by_size[size]?.[p];
      if (!run) continue;
      const pgLat = pg?.serial[size]?.[p];
      out.push({
        figure: `${p} @ ${fmt(Number(size))}: 32 clients p50/p95/p99 ms, req/s (cache hits)`,
        ours: `${fmt(run.load32.p50, 1)} / ${fmt(run.load32.p95, 1)} / ${fmt(run.load32.p99, 1)}, ${fmt(run.load32.rps)}/s (${Math.round((run.load32_cache_hit_ratio ?? 0) * 100)}%)`,
        vsPg: '',
        vsRaw: '',
        target: 'p95 <= 25, >= 500/s',
      });
      out.push({
        figure: `${p} @ ${fmt(Number(size))}: 1 client uncached p50 / p95 ms (PostgreSQL p50)`,
        ours: `${fmt(run.serial.p50, 1)} / ${fmt(run.serial.p95, 1)} (${fmt(pgLat?.p50, 1)})`,
        vsPg: pgLat ? `${(pgLat.p50 / run.serial.p50).toFixed(1)}x faster` : 'n/a',
        vsRaw: '',
        target: p === 'user_feature_usage' ? '' : '>= 20x',
      });
    }
  }
  out.push(
    {
      figure: 'bytes per event on disk',
      ours: fmt(r.bytes_per_event, 1),
      vsPg: pg
        ? `${(pg.bytes_per_event / r.bytes_per_event).toFixed(1)}x smaller (PG ${fmt(pg.bytes_per_event, 1)})`
        : 'n/a',
      vsRaw: '',
      target: '<= 20',
    },
    {
      figure: 'service peak RSS (MiB, VmHWM)',
      ours: fmt(r.rss_peak_mb),
      vsPg: '',
      vsRaw: '',
      target: '<= 1,024',
    },
    { figure: 'events in store', ours: fmt(r.events_in_store), vsPg: '', vsRaw: '', target: '' },
  );
  const f = r.read_floor;
  if (f)
    out.push({
      figure:
        'per-query floor, SELECT 1 as a pipe: 1 client uncached p50 / p95 ms; 32 clients req/s as served, as queries (/v0/sql)',
      ours: `${fmt(f.uncached_p50_ms, 1)} / ${fmt(f.uncached_p95_ms, 1)}; ${fmt(f.rps_32)}/s, ${fmt(f.rps_32_uncached)}/s (${fmt(f.sql_select1_rps_32)}/s)`,
      vsPg: '',
      vsRaw: '',
      target: '',
    });
  return out;
}

export function renderTable(r: Result): string {
  const rs = rows(r);
  const head: Row = {
    figure: 'figure',
    ours: 'ours',
    vsPg: 'vs PostgreSQL',
    vsRaw: 'vs raw chDB',
    target: 'target',
  };
  const all = [head, ...rs];
  const w = (k: keyof Row) => Math.max(...all.map((x) => x[k].length));
  const line = (x: Row) =>
    `${x.figure.padEnd(w('figure'))}  ${x.ours.padStart(w('ours'))}  ${x.vsPg.padEnd(w('vsPg'))}  ${x.vsRaw.padEnd(w('vsRaw'))}  ${x.target}`;
  const t = targets(r)
    .map((x) => `  ${x.met === null ? 'n/a    ' : x.met ? 'met    ' : 'NOT met'}  ${x.name}: ${x.value}`)
    .join('\n');
  const a = analyticsRows(r)
    .map((x) => `  ${x.join('  |  ')}`)
    .join('\n');
  return `\nfeature-events bench (${r.mode})\n\n${line(head)}\n${'-'.repeat(line(head).length)}\n${rs.map(line).join('\n')}\n\ntargets:\n${t}\n${a ? `\nanalytics pipes (${ANALYTICS_HEAD.slice(0, -1).join(' | ')}):\n${a}\n` : ''}`;
}

export function renderMarkdown(r: Result): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  const table = rows(r)
    .map((x) => `| ${esc(x.figure)} | ${esc(x.ours)} | ${esc(x.vsPg)} | ${esc(x.vsRaw)} | ${esc(x.target)} |`)
    .join('\n');
  const t = targets(r)
    .map(
      (x) =>
        `| ${esc(x.name)} | ${esc(x.value)} | ${x.met === null ? 'n/a' : x.met ? 'met' : '**not met**'} |`,
    )
    .join('\n');
  return `# Bench results (${r.mode})

Generated by \`npm run bench${r.mode === 'quick' ? ' -- --quick' : ''}\`; raw figures in \`latest.json\`, chart in \`latest.svg\`.

| figure | ours | vs PostgreSQL | vs raw chDB | target |
|---|---:|---|---|---|
${table}

## Targets

| target | measured | |
|---|---|---|
${t}
${
  r.analytics
    ? `
## Analytics pipes (issue 10), at ${fmt(Math.max(...r.details.stages))} events

| ${ANALYTICS_HEAD.join(' | ')} |
|---|---|---:|---:|---|---|---|
${analyticsRows(r)
  .map((x) => `| ${x.map(esc).join(' | ')} |`)
  .join('\n')}
`
    : ''
}
![comparison](latest.svg)
`;
}

/** Horizontal bars, one panel per comparison, log-free (each panel scaled to its own max). */
export function renderSvg(r: Result): string {
  const pg = pgOf(r);
  const raw = r.details.raw_clickhouse;
  const largest = String(Math.max(...r.details.stages));
  const at = r.details.pipes_by_size[largest];
  const panels: Array<{
    title: string;
    unit: string;
    bars: Array<{ label: string; value: number; ours: boolean }>;
  }> = [
    {
      title: 'Ingest rate (events/s, higher is better)',
      unit: 'ev/s',
      bars: [
        { label: 'ours, embedded, NDJSON 1k', value: r.ingest_ndjson_eps_embedded, ours: true },
        { label: 'ours, Kafka, NDJSON 1k', value: r.ingest_ndjson_eps_kafka ?? 0, ours: true },
        { label: 'ours, single events', value: r.ingest_single_eps, ours: true },
        { label: 'raw chDB, table only', value: raw.table_only.eps, ours: false },
        { label: 'raw chDB, with views', value: raw.with_views.eps, ours: false },
        { label: 'PostgreSQL COPY', value: pg?.ingest_eps ?? 0, ours: false },
      ],
    },
    ...PIPES.map((p) => ({
      title: `${p} at ${Number(largest).toLocaleString('en')} events: 1-client p50 (ms, lower is better)`,
      unit: 'ms',
      bars: [
        { label: 'ours (HTTP pipe)', value: at?.[p].serial.p50 ?? 0, ours: true },
        { label: 'PostgreSQL (SQL)', value: pg?.serial[largest]?.[p].p50 ?? 0, ours: false },
      ],
    })),
    {
      title: 'Bytes per event on disk (lower is better)',
      unit: 'B',
      bars: [
        { label: 'ours (events + rollups)', value: r.bytes_per_event, ours: true },
        { label: 'PostgreSQL (table + indexes)', value: pg?.bytes_per_event ?? 0, ours: false },
      ],
    },
  ];
  const W = 860;
  const labelW = 230;
  const barMax = W - labelW - 130;
  const barH = 18;
  let y = 40;
  const parts: string[] = [];
  const xmlEscape = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;');
  for (const panel of panels) {
    parts.push(`<text x="10" y="${y}" font-weight="bold">${xmlEscape(panel.title)}</text>`);
    y += 10;
    const max = Math.max(1, ...panel.bars.map((b) => b.value));
    for (const b of panel.bars) {
      const w = Math.max(1, (b.value / max) * barMax);
      parts.push(
        `<text x="${labelW - 8}" y="${y + 13}" text-anchor="end">${xmlEscape(b.label)}</text>`,
        `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${b.ours ? '#2f7ed8' : '#b0b0b0'}"/>`,
        `<text x="${labelW + w + 6}" y="${y + 13}">${b.value ? `${b.value.toLocaleString('en', { maximumFractionDigits: 1 })} ${panel.unit}` : 'n/a'}</text>`,
      );
      y += barH + 6;
    }
    y += 22;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="20" font-size="15" font-weight="bold">feature-events bench (${r.mode}): ours (blue) vs baselines (grey)</text>
${parts.join('\n')}
</svg>
`;
}
