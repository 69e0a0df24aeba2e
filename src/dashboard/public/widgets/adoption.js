// Adoption per feature: the share of the window's active users who used it, as bars and a table.
import { barChart } from '../charts.js';
import { windowParams } from '../filters.js';
import { fillTable, number, percent, setNote, setState, unappliedNote } from '../render.js';

export async function loadAdoption(panel, { api, f, w }) {
  const rows = await api.rows('feature_adoption', {
    ...windowParams(w),
    feature_id: f.feature,
    product_version: f.version,
    limit: 15,
  });
  setNote(panel, unappliedNote(f, ['feature', 'version']));
  const table = panel.querySelector('table');
  if (rows.length === 0) {
    setState(panel, 'empty', 'No feature was used in this window.');
    panel.querySelector('.chart').replaceChildren();
    table.replaceChildren();
    return;
  }
  setState(panel, null);
  barChart(
    panel.querySelector('.chart'),
    rows.map((r) => r.feature_id),
    rows.map((r) => Number(r.adoption_pct ?? 0)),
    'adoption %',
  );
  fillTable(
    table,
    [
      { key: 'feature_id', label: 'Feature' },
      { key: 'unique_users', label: 'Users', num: true, format: number },
      { key: 'adoption_pct', label: 'Adoption', num: true, format: percent },
      { key: 'previous_unique_users', label: 'Users before', num: true, format: number },
      { key: 'change_pct', label: 'Change', num: true, format: percent },
    ],
    rows,
  );
}
