import { Hono } from 'hono';
import { requestLog } from './src/http/request-log.js';
import { createLog } from './src/log/index.js';
import { createMetrics } from './src/metrics/registry.js';
import { loaderMetrics } from './src/metrics/loader-metrics.js';

function build(mode: 'none' | 'warn') {
  const app = new Hono();
  if (mode !== 'none') app.use('*', requestLog({ log: createLog('warn'), metrics: createMetrics({ defaultMetrics: false }) }));
  app.post('/v0/events', (c) => c.json({ successful_rows: 1, quarantined_rows: 0 }, 202));
  return app;
}
const apps = { none: build('none'), warn: build('warn') };
const req = () => new Request('http://x/v0/events?name=feature_events', { method: 'POST', body: '{"a":1}' });
async function run(app: Hono, n: number) { const t = performance.now(); for (let i = 0; i < n; i++) await (await app.fetch(req())).arrayBuffer(); return (performance.now() - t) / n * 1000; }
for (const a of Object.values(apps)) await run(a, 20000);
const res: Record<string, number[]> = { none: [], warn: [] };
for (let r = 0; r < 11; r++) for (const [k, a] of Object.entries(apps)) res[k]!.push(await run(a, 10000));
const med = (xs: number[]) => xs.sort((a, b) => a - b)[5]!;
for (const k of Object.keys(res)) console.log(k, 'us/request', med(res[k]!).toFixed(2), 'ratio', (med(res[k]!) / med(res.none)).toFixed(2));
const rows = { events: Array.from({ length: 50000 }, (_, i) => JSON.stringify({ event_id: `evt_${i}`, user_id: 'usr_789', feature_id: 'feature_recommendations', product_version: '2.4.1', event_type: 'feature_used', timestamp: '2023-10-15 14:35:22', session_id: 'sess_456', metadata: '{"duration_seconds":45,"result":"success"}' })), quarantine: [] };
const obs = loaderMetrics(createMetrics({ defaultMetrics: false }), { events: 'e', quarantine: 'q' });
const ts: number[] = [];
for (let r = 0; r < 7; r++) { const t = performance.now(); obs.batchStored({ rows, events: 50000, quarantine: 0, duplicates: 0, seconds: 0.2 }); ts.push(performance.now() - t); }
const joins: number[] = [];
for (let r = 0; r < 7; r++) { const t = performance.now(); Buffer.from(`${rows.events.join('\n')}\n`, 'utf8'); joins.push(performance.now() - t); }
console.log('batchStored on 50k rows, ms (median of 7):', ts.sort((a, b) => a - b)[3]!.toFixed(2), '; insert.ts join+Buffer.from of the same rows:', joins.sort((a, b) => a - b)[3]!.toFixed(2));
