// Retention curves for one feature (the chosen one, or the most used): users active in the
// cohort week who used it against those who did not, week by week after.
import { lineChart } from '../charts.js';
import { setNote, setState } from '../render.js';

const WEEKS = 4;

export async function loadRetention(panel, { api, f, top }) {
  const feature = f.feature || top[0]?.feature_id;
  panel.querySelector('.feature-name').textContent = feature ?? '';
  const chart = panel.querySelector('.chart');
  if (!feature) {
    setState(panel, 'empty', 'No feature to show: no events in this window.');
    chart.replaceChildren();
    return;
  }
  setNote(
    panel,
    `Cohort: users active in the week ${WEEKS} weeks before the last complete one; retained = active in week k after it.`,
  );
  const rows = await api.rows('feature_retention', { feature_id: feature, weeks: WEEKS });
  const weeks = [...new Set(rows.map((r) => Number(r.week)))].sort((a, b) => a - b);
  const series = ['used', 'not_used'].map((group) => ({
    label: group === 'used' ? `used ${feature}` : 'did not use it',
    values: weeks.map((k) => {
      const r = rows.find((x) => x.group === group && Number(x.week) === k);
      return r && r.retention_pct !== null ? Number(r.retention_pct) : null;
    }),
  }));
  if (series.every((s) => s.values.every((v) => v === null))) {
    setState(panel, 'empty', 'Nobody was active in the cohort week.');
    chart.replaceChildren();
    return;
  }
  setState(panel, null);
  lineChart(chart, weeks, series);
}
