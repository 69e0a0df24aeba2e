// The filters live in the URL's query string, so a view can be shared; the token never does.

const RANGE_DAYS = { '7d': 7, '30d': 30, '90d': 90 };
const FIELDS = ['range', 'from', 'to', 'feature', 'version', 'event_type', 'account'];
const DAY = 86_400_000;

export function readFilters(search) {
  const p = new URLSearchParams(search);
  const f = Object.fromEntries(FIELDS.map((k) => [k, (p.get(k) ?? '').trim()]));
  if (!(f.range in RANGE_DAYS) && f.range !== 'custom') f.range = '30d';
  if (f.range === 'custom' && !(isDate(f.from) && isDate(f.to) && f.from <= f.to)) f.range = '30d';
  return f;
}

export function filtersToSearch(f) {
  const p = new URLSearchParams();
  for (const k of FIELDS) {
    if (!f[k] || (k === 'range' && f[k] === '30d')) continue;
    if ((k === 'from' || k === 'to') && f.range !== 'custom') continue;
    p.set(k, f[k]);
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

const isDate = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`));

/** ClickHouse's DateTime text, UTC: YYYY-MM-DD HH:MM:SS. */
const chTime = (ms) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

export const startOfUtcDay = (ms) => Math.floor(ms / DAY) * DAY;

/** The window the filters select, as epoch ms, both ends inclusive (whole seconds). */
export function windowOf(f, now = Date.now()) {
  const end = Math.floor(now / 1000) * 1000;
  if (f.range === 'custom') {
    return { start: Date.parse(`${f.from}T00:00:00Z`), end: Date.parse(`${f.to}T23:59:59Z`) };
  }
  return { start: startOfUtcDay(end) - (RANGE_DAYS[f.range] - 1) * DAY, end };
}

/** start_date/end_date parameters of a window. */
export const windowParams = (w) => ({ start_date: chTime(w.start), end_date: chTime(w.end) });

/** The window of the same length that ends one second before this one starts (docs/analytics.md). */
export function previousWindow(w) {
  const length = w.end - w.start + 1000;
  return { start: w.start - length, end: w.start - 1000 };
}
