// Usage over time: the timeline pipe, one line per feature (the chosen one, or the five
// most used in the window).
import { timeChart } from '../charts.js';
import { windowParams } from '../filters.js';
import { setNote, setState, unappliedNote } from '../render.js';

export async function loadTimeline(panel, { api, f, w, top }) {
  const chart = panel.querySelector('.chart');
  const features = f.feature ? [f.feature] : top.slice(0, 5).map((r) => r.feature_id);
  setNote(panel, unappliedNote(f, ['feature', 'version']));
  if (features.length === 0) {
    setState(panel, 'empty', 'No events in this window.');
    chart.replaceChildren();
    return;
  }
  const granularity = w.end - w.start <= 2 * 86_400_000 ? 'hour' : 'day';
  const rows = await api.rows('feature_usage_timeline', {
    ...windowParams(w),
    granularity,
    feature_id: features.join(','),
    product_version: f.version,
    limit: 100000,
  });
  const toSec = (t) => Date.parse(`${String(t).replace(' ', 'T')}Z`) / 1000;
  const x = [...new Set(rows.map((r) => toSec(r.bucket)))].sort((a, b) => a - b);
  const index = new Map(x.map((t, i) => [t, i]));
  const series = features.map((feature) => {
    const values = x.map(() => 0);
    for (const r of rows) if (r.feature_id === feature) values[index.get(toSec(r.bucket))] = Number(r.events);
    return { label: feature, values };
  });
  if (x.length === 0) {
    setState(panel, 'empty', 'No events in this window.');
    chart.replaceChildren();
    return;
  }
  setState(panel, null);
  timeChart(chart, x, series);
}
