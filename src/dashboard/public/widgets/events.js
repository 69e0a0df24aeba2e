// Recent events with keyset paging (the last row of a page starts the next), and the capped CSV export.
import { windowParams } from '../filters.js';
import { fillTable, setState } from '../render.js';

const PAGE_ROWS = 25;

const filterParams = (f, w) => ({
  ...windowParams(w),
  feature_id: f.feature,
  event_type: f.event_type,
  account_id: f.account,
  product_version: f.version,
});

/** cursor: the last row of the previous page, or null for the newest page. */
export async function loadEvents(panel, { api, f, w }, cursor) {
  const rows = await api.rows('events', {
    ...filterParams(f, w),
    limit: PAGE_ROWS,
    before_timestamp: cursor?.timestamp,
    before_event_id: cursor?.event_id,
  });
  const table = panel.querySelector('table');
  panel.querySelector('#events-next').disabled = rows.length < PAGE_ROWS;
  panel.querySelector('#events-newest').disabled = !cursor;
  if (rows.length === 0) {
    setState(panel, 'empty', cursor ? 'No older events.' : 'No events in this window.');
    table.replaceChildren();
    return null;
  }
  setState(panel, null);
  fillTable(
    table,
    [
      { key: 'timestamp', label: 'Time (UTC)' },
      { key: 'feature_id', label: 'Feature' },
      { key: 'event_type', label: 'Type' },
      { key: 'user_id', label: 'User' },
      { key: 'account_id', label: 'Account' },
      { key: 'product_version', label: 'Version' },
      { key: 'event_id', label: 'Event id' },
    ],
    rows,
  );
  return rows.at(-1);
}

/** Downloads events.csv for the filters; the server caps it and says so in a header. */
export async function exportEvents({ api, f, w }) {
  const res = await api.raw('events', { ...filterParams(f, w), limit: 100_000_000 }, 'csv');
  const blob = await res.blob();
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = `events_${windowParams(w).start_date.slice(0, 10)}_${windowParams(w).end_date.slice(0, 10)}.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  const capped = [...res.headers.entries()].find(([k]) => /cap/i.test(k));
  return capped ? `capped: ${capped[1]}` : '';
}
