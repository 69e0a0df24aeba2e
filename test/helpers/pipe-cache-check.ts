import { expect } from 'vitest';
import { event, ndjson, postEvents, type ServiceProcess } from './service.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ts = (msAgo: number) => new Date(Date.now() - msAgo).toISOString().slice(0, 19).replace('T', ' ');
const DAY = 86_400_000;

interface Answer {
  cache: string | null;
  data: Array<Record<string, unknown>>;
}

async function get(svc: ServiceProcess, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${svc.baseUrl}/v0/pipes/${path}`, {
    headers: { Authorization: `Bearer ${svc.token}`, ...headers },
  });
  expect(res.status).toBe(200);
  return { cache: res.headers.get('x-cache'), data: ((await res.json()) as Answer).data };
}

async function post(svc: ServiceProcess, rows: unknown[]): Promise<void> {
  const res = await postEvents(svc, ndjson(rows));
  expect(res.status).toBe(200); // wait=true: the rows are in ClickHouse
}

/**
 * The result cache never serves an answer older than the last stored rows: a user lookup
 * (cached until an insert) and a moving timeline window (its settled days cached until an
 * insert, today recomputed) both show a row once the POST with wait=true returned. The
 * timeline as served (cut at day edges) equals the same question with the cache skipped.
 * kpis for one feature (its row picked from the answer for all features, held until an insert
 * while no stored row is later than now) shows an insert, and a row stored with a time ahead
 * of the clock once the clock has passed it, with no insert between.
 * `tag` keeps the rows of one call apart from other tests'.
 */
export async function expectInsertsInvalidateCache(svc: ServiceProcess, tag: string): Promise<void> {
  const user = `cache_user_${tag}`;
  const feature = `feature_cache_${tag}`;
  const row = (id: string, msAgo: number) =>
    event({ event_id: `${tag}_${id}`, user_id: user, feature_id: feature, timestamp: ts(msAgo) });
  await post(svc, [row('a', 3 * DAY), row('b', 3 * DAY + 60_000), row('c', 60_000)]);

  const lookup = `user_feature_usage.json?user_id=${user}`;
  expect((await get(svc, lookup)).cache).toBe('MISS');
  const before = await get(svc, lookup);
  expect(before.cache).toBe('HIT');
  expect(before.data.map((r) => Number(r.events))).toEqual([3]);

  const timeline = `feature_usage_timeline.json?feature_id=${feature}&interval=7%20day&granularity=day`;
  const served = await get(svc, timeline);
  const fresh = await get(svc, timeline, { 'Cache-Control': 'no-cache' });
  expect(fresh.cache).toBe('BYPASS');
  expect(served.data).toEqual(fresh.data);
  const threeDaysAgo = `${ts(3 * DAY).slice(0, 10)} 00:00:00`;
  const eventsOn = (a: Answer, day: string) =>
    a.data.filter((r) => r.bucket === day).map((r) => Number(r.events));
  expect(eventsOn(served, threeDaysAgo)).toEqual([2]);

  // One more row in a settled day, another in today's moving bucket.
  await post(svc, [row('d', 3 * DAY + 120_000), row('e', 30_000)]);
  expect((await get(svc, lookup)).data.map((r) => Number(r.events))).toEqual([5]);
  const after = await get(svc, timeline);
  expect(eventsOn(after, threeDaysAgo)).toEqual([3]);
  expect(after.data.reduce((s, r) => s + Number(r.events), 0)).toBe(5);
  expect(after.data).toEqual((await get(svc, timeline, { 'Cache-Control': 'no-cache' })).data);

  const kpis = `kpis.json?feature_id=${feature}`;
  const month = async (headers: Record<string, string> = {}) =>
    (await get(svc, kpis, headers)).data.map((r) => Number(r.events_month));
  expect(await month()).toEqual([5]);
  expect((await get(svc, kpis)).cache).toBe('HIT');
  await post(svc, [row('f', 2 * DAY)]);
  expect(await month()).toEqual([6]);
  expect((await get(svc, kpis)).cache).toBe('HIT');

  // A row stamped 4 s ahead: not in the answer until the clock passes it, then in it, though
  // nothing was stored in between.
  const aheadMs = 4_000;
  await post(svc, [row('g', -aheadMs)]);
  const storedAt = Date.now();
  const early = await month();
  if (Date.now() < storedAt + aheadMs - 1_000) expect(early).toEqual([6]);
  await sleep(aheadMs + 1_500); // past the row, and past PIPE_CACHE_TTL_MS (1 s)
  expect(await month()).toEqual([7]);
  expect(await month({ 'Cache-Control': 'no-cache' })).toEqual([7]);
  const later = await get(svc, timeline);
  expect(later.data.reduce((s, r) => s + Number(r.events), 0)).toBe(7);
  expect(later.data).toEqual((await get(svc, timeline, { 'Cache-Control': 'no-cache' })).data);

  // feature_retention reads the clock only through today's date (moving_end): held until an
  // insert, which shows at once. (Last: these rows fall inside kpis' 30 days.)
  const monday = (ms: number) => {
    const d = new Date(ms - ((new Date(ms).getUTCDay() + 6) % 7) * DAY);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  };
  const cohort = monday(Date.now()) - 14 * DAY;
  const at = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  const visit = (id: string, u: string, ms: number) =>
    event({ event_id: `${tag}_${id}`, user_id: `${user}_${u}`, feature_id: feature, timestamp: at(ms) });
  const retention = `feature_retention.json?feature_id=${feature}&weeks=1`; // cohort: the Monday two weeks back
  const used = async () => (await get(svc, retention)).data.find((r) => r.group === 'used');
  await post(svc, [visit('r1', 'x', cohort + 3_600_000), visit('r2', 'x', cohort + 7 * DAY + 3_600_000)]);
  expect(await used()).toMatchObject({ cohort_users: 1, retained_users: 1 });
  await sleep(1_500); // past PIPE_CACHE_TTL_MS: still held
  expect((await get(svc, retention)).cache).toBe('HIT');
  await post(svc, [visit('r3', 'y', cohort + 7_200_000)]);
  expect(await used()).toMatchObject({ cohort_users: 2, retained_users: 1 });
  // The feature's rows were picked from the answer for every feature (select_rows): the same
  // as asking the database, for the feature and for all of them.
  const fresh2 = await get(svc, retention, { 'Cache-Control': 'no-cache' });
  expect((await get(svc, retention)).data).toEqual(fresh2.data);
  const every = 'feature_retention.json?weeks=1';
  expect((await get(svc, every)).data).toEqual((await get(svc, every, { 'Cache-Control': 'no-cache' })).data);
  // The time-ordered copy the timeline's edges and retention read holds every stored row.
  const [copy] = await svc.sql<{ raw: string; copy: string }>(
    'SELECT (SELECT count() FROM feature_events) AS raw, (SELECT count() FROM feature_events_by_time) AS copy',
  );
  expect(Number(copy?.copy)).toBe(Number(copy?.raw));
}
