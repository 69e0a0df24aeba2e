// Churn signals (seed 003): users or accounts whose usage dropped or stopped against the previous window.
import { windowParams } from '../filters.js';
import { fillTable, number, percent, setNote, setState, unappliedNote } from '../render.js';

export async function loadChurn(panel, { api, f, w }) {
  const by = panel.querySelector('#churn-by').value;
  const rows = await api.rows('churn_signals', {
    ...windowParams(w),
    by,
    feature_id: f.feature,
    product_version: f.version,
    limit: 20,
  });
  setNote(panel, unappliedNote(f, ['feature', 'version']));
  const table = panel.querySelector('table');
  if (rows.length === 0) {
    setState(panel, 'empty', `No ${by} shows a churn signal in this window.`);
    table.replaceChildren();
    return;
  }
  setState(panel, null);
  fillTable(
    table,
    [
      { key: 'subject_id', label: by === 'account' ? 'Account' : 'User' },
      { key: 'signal', label: 'Signal' },
      { key: 'previous_events', label: 'Events before', num: true, format: number },
      { key: 'current_events', label: 'Events now', num: true, format: number },
      { key: 'change_pct', label: 'Change', num: true, format: percent },
    ],
    rows,
  );
}
