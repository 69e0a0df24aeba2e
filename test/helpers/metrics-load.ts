import { expect } from 'vitest';
import { waitFor } from './mock-kafka.js';
import { scrape, sumOf } from './prometheus.js';
import { event, ndjson, postEvents, type ServiceProcess } from './service.js';

const DS = { datasource: 'feature_events' };

/**
 * The issue's "done when": a short load of N valid and M invalid rows, in a few requests,
 * moves the ingest and insert counters of `metricsUrl` by exactly N and M, once the rows are
 * queryable. Returns the counters' deltas for mode-specific checks.
 */
export async function expectCountersMoveByLoad(svc: ServiceProcess, metricsUrl: string, tag: string) {
  const before = await scrape(metricsUrl);
  // Three requests: valid rows with a few invalid ones mixed in (no timestamp, bad user_id).
  const shape = [
    { valid: 40, invalid: 3 },
    { valid: 35, invalid: 0 },
    { valid: 25, invalid: 4 },
  ];
  const N = shape.reduce((n, s) => n + s.valid, 0);
  const M = shape.reduce((n, s) => n + s.invalid, 0);
  let k = 0;
  for (const [r, s] of shape.entries()) {
    const rows: unknown[] = [];
    for (let i = 0; i < s.valid; i++) rows.push(event({ event_id: `${tag}_${k++}`, user_id: `u${i % 7}` }));
    for (let i = 0; i < s.invalid; i++) rows.push({ event_id: `${tag}_bad_${r}_${i}`, user_id: 'u1' });
    const res = await postEvents(svc, ndjson(rows), '');
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      successful_rows: s.valid,
      quarantined_rows: s.invalid,
      redacted_rows: 0,
    });
  }
  // Queryable: every row in its table.
  await waitFor(async () => {
    const [e] = await svc.sql<{ c: string }>(
      `SELECT count() AS c FROM feature_events WHERE startsWith(event_id, '${tag}_')`,
    );
    const [q] = await svc.sql<{ c: string }>(
      `SELECT count() AS c FROM feature_events_quarantine WHERE startsWith(event_id, '${tag}_bad_')`,
    );
    return Number(e?.c) === N && Number(q?.c) === M;
  }, 'the rows to be queryable');
  // The counter moves right after the insert returns: wait for it, then check it is exact.
  const moved = (samples: Awaited<ReturnType<typeof scrape>>, name: string, labels = {}) =>
    sumOf(samples, name, labels) - sumOf(before, name, labels);
  let after = await scrape(metricsUrl);
  await waitFor(async () => {
    after = await scrape(metricsUrl);
    return (
      moved(after, 'feature_events_inserted_rows_total', { table: 'feature_events_quarantine' }) >= M &&
      moved(after, 'feature_events_inserted_rows_total', { table: 'feature_events' }) >= N
    );
  }, 'the insert counters');
  expect(moved(after, 'feature_events_events_received_total', DS)).toBe(N + M);
  expect(moved(after, 'feature_events_events_accepted_total', DS)).toBe(N);
  expect(moved(after, 'feature_events_events_quarantined_total', DS)).toBe(M);
  expect(moved(after, 'feature_events_inserted_rows_total', { table: 'feature_events' })).toBe(N);
  expect(moved(after, 'feature_events_inserted_rows_total', { table: 'feature_events_quarantine' })).toBe(M);
  expect(
    moved(after, 'feature_events_http_requests_total', {
      method: 'POST',
      route: '/v0/events',
      status: '202',
    }),
  ).toBe(shape.length);
  expect(moved(after, 'feature_events_batch_rows_count')).toBeGreaterThanOrEqual(1);
  expect(moved(after, 'feature_events_batch_rows_sum')).toBe(N + M);
  return { N, M, before, after, moved: (name: string, labels = {}) => moved(after, name, labels) };
}
