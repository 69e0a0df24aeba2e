// Small DOM helpers shared by the widgets: states, tables, numbers.

export const number = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'));
export const percent = (n) => (n === null || n === undefined ? '–' : `${Number(n).toFixed(2)} %`);

/** A widget's state line: loading, empty, or an error; null clears it. */
export function setState(panel, kind, text) {
  const el = panel.querySelector('.state');
  el.className = `state ${kind ?? ''}`;
  el.textContent = kind ? text : '';
  panel.dataset.state = kind ?? 'ready';
}

export function setNote(panel, text) {
  panel.querySelector('.note').textContent = text;
}

/** Renders rows into a table; columns: [{ key, label, num?, format? }]. */
export function fillTable(table, columns, rows) {
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const c of columns) {
    const th = document.createElement('th');
    th.textContent = c.label;
    th.scope = 'col';
    if (c.num) th.className = 'num';
    head.append(th);
  }
  const body = table.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const c of columns) {
      const td = tr.insertCell();
      const v = row[c.key];
      td.textContent = c.format ? c.format(v, row) : (v ?? '');
      if (c.num) td.className = 'num';
    }
  }
}

/** Filters a widget does not take, named so nobody reads a number as filtered when it is not. */
export function unappliedNote(f, applies) {
  const names = { event_type: 'event type', account: 'account', version: 'version', feature: 'feature' };
  const ignored = Object.keys(names).filter((k) => f[k] && !applies.includes(k));
  return ignored.length
    ? `Not filtered by ${ignored.map((k) => names[k]).join(', ')} (this pipe has no such parameter).`
    : '';
}
