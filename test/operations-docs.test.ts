import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createMetrics, PREFIX } from '../src/metrics/registry.js';

// The alerts, the scrape config and the dashboard name metrics by hand: checked against the
// registry, so renaming a metric without them fails here instead of silently in production.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}/${path}`, 'utf8');

/** Every series name a registry exposes (a histogram's _bucket, _sum and _count). */
async function exposedNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const m of await createMetrics().registry.getMetricsAsJSON()) {
    names.add(m.name);
    // prom-client's types declare a numeric enum; at run time the type is the string.
    if (String(m.type) === 'histogram')
      for (const s of ['_bucket', '_sum', '_count']) names.add(`${m.name}${s}`);
  }
  return names;
}

/** Our metric names in a PromQL expression (label values in quotes are not names). */
function metricNames(expr: string): string[] {
  return [...expr.replace(/"[^"]*"/g, '""').matchAll(new RegExp(`\\b${PREFIX}[a-z0-9_]+`, 'g'))].map(
    (m) => m[0],
  );
}

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

describe('docs/operations.md, the alerts and the dashboard', () => {
  it('the three alert rules are a valid rule file naming only metrics the service exposes', async () => {
    const names = await exposedNames();
    const file = parse(read('deploy/prometheus/alerts.yml')) as {
      groups: Array<{ name: string; rules: Rule[] }>;
    };
    const rules = file.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual([
      'FeatureEventsIngestBehind',
      'FeatureEventsInsertsFailing',
      'FeatureEventsConsumerLag',
    ]);
    for (const rule of rules) {
      expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
      const used = metricNames(rule.expr);
      expect(used.length, rule.alert).toBeGreaterThan(0);
      for (const name of used) expect(names, `${rule.alert}: ${name}`).toContain(name);
    }
  });

  it('every panel of the Grafana dashboard queries metrics the service exposes', async () => {
    const names = await exposedNames();
    const dashboard = JSON.parse(read('deploy/grafana/feature-events.json')) as {
      panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
    };
    const graphs = dashboard.panels.filter((p) => p.type !== 'row');
    expect(graphs.length).toBeGreaterThan(10);
    const used = new Set<string>();
    for (const panel of graphs) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const t of panel.targets ?? []) {
        const inExpr = metricNames(t.expr);
        expect(inExpr.length, `${panel.title}: ${t.expr}`).toBeGreaterThan(0);
        for (const name of inExpr) {
          expect(names, `${panel.title}: ${name}`).toContain(name);
          used.add(name.replace(/_(bucket|sum|count)$/, ''));
        }
      }
    }
    // The metrics the issue asks for are all on it.
    for (const m of [
      'http_requests_total',
      'events_accepted_total',
      'events_quarantined_total',
      'events_redacted_total',
      'inserted_rows_total',
      'insert_failures_total',
      'queue_pending_bytes',
      'kafka_consumer_lag_messages',
      'pipe_requests_total',
      'table_rows',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      expect(used, m).toContain(`${PREFIX}${m}`);
  });

  it('the scrape config scrapes /metrics both ways, and loads the alert rules', () => {
    const config = parse(read('deploy/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; metrics_path: string; authorization?: { type: string } }>;
    };
    expect(config.rule_files).toEqual(['alerts.yml']);
    expect(config.scrape_configs.map((s) => s.metrics_path)).toEqual(['/metrics', '/metrics']);
    expect(config.scrape_configs[1]?.authorization?.type).toBe('Bearer');
  });

  it('docs/operations.md shows the scrape config and the alerts exactly as shipped', () => {
    const doc = read('docs/operations.md');
    expect(doc).toContain('## Metrics and logs');
    for (const file of ['deploy/prometheus/prometheus.yml', 'deploy/prometheus/alerts.yml'])
      expect(doc, file).toContain(`\`\`\`yaml\n${read(file).trimEnd()}\n\`\`\``);
    expect(doc).toContain('deploy/grafana/feature-events.json');
  });

  it('the metrics table of docs/operations.md lists every metric of the registry', async () => {
    const doc = read('docs/operations.md');
    const ours = (await createMetrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map((m) =>
      m.name.slice(PREFIX.length),
    );
    for (const name of ours) expect(doc, name).toMatch(new RegExp(`\`${name}\`|${name}\``));
  });
});
