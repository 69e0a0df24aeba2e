// KPI cards: events and active users today / 7 days / 30 days, each with the change against
// the period before it. Today is compared with yesterday up to the same time of day; 7 and
// 30 days with the window of the same length just before (docs/analytics.md).
import { previousWindow, startOfUtcDay, windowParams } from '../filters.js';
import { number } from '../render.js';

const DAY = 86_400_000;

function periods(now) {
  const end = Math.floor(now / 1000) * 1000;
  const today = startOfUtcDay(end);
  const days = (n) => {
    const w = { start: today - (n - 1) * DAY, end };
    return { current: w, previous: previousWindow(w) };
  };
  return [
    {
      key: 'today',
      label: 'today',
      current: { start: today, end },
      previous: { start: today - DAY, end: end - DAY },
    },
    { key: '7d', label: '7 days', ...days(7) },
    { key: '30d', label: '30 days', ...days(30) },
  ];
}

/** Events and active users of one window, with the filters the pipes take. */
async function figures(api, f, w) {
  const common = { ...windowParams(w), product_version: f.version };
  const [top, adoption] = await Promise.all([
    api.rows('top_features', { ...common, event_type: f.event_type, limit: 10000 }),
    api.rows('feature_adoption', { ...common, feature_id: f.feature, limit: 1 }),
  ]);
  const events = top
    .filter((r) => !f.feature || r.feature_id === f.feature)
    .reduce((s, r) => s + Number(r.events), 0);
  const users = adoption[0] ? Number(f.feature ? adoption[0].unique_users : adoption[0].active_users) : 0;
  return { events, users };
}

function change(current, previous) {
  if (!previous) return { text: current ? 'new' : 'no change', cls: '' };
  const pct = (100 * (current - previous)) / previous;
  return {
    text: `${pct >= 0 ? '+' : ''}${pct.toFixed(1)} % vs previous`,
    cls: pct > 0 ? 'up' : pct < 0 ? 'down' : '',
  };
}

function card(id, label, value, delta) {
  const el = document.createElement('div');
  el.className = 'card';
  el.dataset.kpi = id;
  el.innerHTML = '<div class="label"></div><div class="value"></div><div class="change"></div>';
  el.querySelector('.label').textContent = label;
  el.querySelector('.value').textContent = number(value);
  el.querySelector('.value').dataset.value = String(value);
  const c = el.querySelector('.change');
  c.textContent = delta.text;
  if (delta.cls) c.classList.add(delta.cls);
  return el;
}

export async function loadKpis(root, { api, f, now }) {
  root.setAttribute('aria-busy', 'true');
  try {
    const results = await Promise.all(
      periods(now).map(async (p) => {
        const [cur, prev] = await Promise.all([figures(api, f, p.current), figures(api, f, p.previous)]);
        return { p, cur, prev };
      }),
    );
    const who = f.feature ? `Users of ${f.feature}` : 'Active users';
    root.replaceChildren(
      ...results.map(({ p, cur, prev }) =>
        card(`events_${p.key}`, `Events ${p.label}`, cur.events, change(cur.events, prev.events)),
      ),
      ...results.map(({ p, cur, prev }) =>
        card(`users_${p.key}`, `${who} ${p.label}`, cur.users, change(cur.users, prev.users)),
      ),
    );
  } finally {
    root.removeAttribute('aria-busy');
  }
}
