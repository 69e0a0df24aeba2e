import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../src/auth/index.js';
import { clientStore, type StorageClient } from '../src/clickhouse/index.js';
import { trackWrites } from '../src/clickhouse/write-generation.js';
import { createPipesApp } from '../src/http/pipes-route.js';
import { loadPipes } from '../src/pipes/index.js';
import { SCHEMA_COLUMNS } from '../src/pipes/known-columns.js';
import { ResultCache } from '../src/pipes/result-cache.js';
import { formatTs, type GeneratedEvent, generateEvents, parseTs } from './helpers/generate-events.js';
import { openPipesFixture, type PipesFixture } from './helpers/pipes-fixture.js';

// The three shipped pipes end to end on embedded chDB, checked against plain TypeScript
// computations over the same generated events (not the same SQL).
const ADMIN = 'admin-token';
const READER = 'reader-token';
const NOW = Date.now();
const WINDOWS = { '7 day': 7 * 86_400, '30 day': 30 * 86_400, '12 hour': 12 * 3_600 };

let fixture: PipesFixture;
let storage: StorageClient;
let events: GeneratedEvent[];
let app: Hono;
const timings: Record<string, number[]> = {};

const tokens = new TokenStore([
  { name: 'admin', token: ADMIN, scopes: [{ type: 'ADMIN' }] },
  { name: 'reader', token: READER, scopes: [{ type: 'PIPES:READ', resource: 'user_feature_usage' }] },
]);

beforeAll(async () => {
  events = generateEvents({ count: 20_000, now: NOW, seed: 7, avoidAgo: Object.values(WINDOWS) });
  fixture = await openPipesFixture(
    'pipes-test',
    events.map((e) => JSON.stringify(e)),
  );
  storage = fixture.storage;
  const pipes = fixture.pipes;
  app = new Hono().route('/v0/pipes', createPipesApp({ client: storage.admin, pipes, tokens }));
});

afterAll(async () => {
  await fixture?.close();
  const report = Object.entries(timings).map(([k, v]) => {
    const sorted = [...v].sort((a, b) => a - b);
    return `${k}: n=${v.length} median=${sorted[Math.floor(v.length / 2)]?.toFixed(1)}ms max=${sorted[v.length - 1]?.toFixed(1)}ms`;
  });
  console.log(`pipe latencies over ${events?.length} events:\n${report.join('\n')}`);
});

type Row = Record<string, unknown>;
async function call(path: string, token: string | null = ADMIN, init?: RequestInit) {
  const started = performance.now();
  const res = await app.request(path ? `/v0/pipes/${path}` : '/v0/pipes', {
    ...init,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(init?.headers as Record<string, string>),
    },
  });
  const pipe = path.split('.')[0] as string;
  const list = timings[pipe] ?? [];
  list.push(performance.now() - started);
  timings[pipe] = list;
  return res;
}
async function data(path: string): Promise<Row[]> {
  const res = await call(path);
  const body = await res.text();
  expect(res.status, body).toBe(200);
  return (JSON.parse(body) as { data: Row[] }).data;
}
const qs = (o: Record<string, string | undefined>) =>
  new URLSearchParams(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined)).toString();
const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface Agg {
  events: number;
  users: Set<string>;
  sessions: Set<string>;
  first: string;
  last: string;
}
function aggregate(rows: GeneratedEvent[], key: (e: GeneratedEvent) => string): Map<string, Agg> {
  const out = new Map<string, Agg>();
  for (const e of rows) {
    const k = key(e);
    const a = out.get(k) ?? {
      events: 0,
      users: new Set(),
      sessions: new Set(),
      first: e.timestamp,
      last: e.timestamp,
    };
    a.events++;
    a.users.add(e.user_id);
    if (e.session_id) a.sessions.add(e.session_id); // an empty id is no session
    if (e.timestamp < a.first) a.first = e.timestamp;
    if (e.timestamp > a.last) a.last = e.timestamp;
    out.set(k, a);
  }
  return out;
}
const sortedEntries = (m: Map<string, Agg>) => [...m.entries()].sort(([a], [b]) => byKey(a, b));

function expectedUser(user: string, feature?: string, version?: string): Row[] {
  const rows = events.filter(
    (e) =>
      e.user_id === user &&
      (!feature || e.feature_id === feature) &&
      (!version || e.product_version === version),
  );
  return sortedEntries(aggregate(rows, (e) => `${e.feature_id}\u0001${e.product_version}`)).map(([k, a]) => {
    const [feature_id, product_version] = k.split('\u0001');
    return {
      feature_id,
      product_version,
      events: a.events,
      sessions: a.sessions.size,
      first_used: a.first,
      last_used: a.last,
    };
  });
}

function expectedSummary(o: { start?: string; end?: string; feature?: string; version?: string }): Row[] {
  const rows = events.filter(
    (e) =>
      (!o.start || e.timestamp >= o.start) &&
      (!o.end || e.timestamp <= o.end) &&
      (!o.feature || e.feature_id === o.feature) &&
      (!o.version || e.product_version === o.version),
  );
  return sortedEntries(aggregate(rows, (e) => `${e.feature_id}\u0001${e.product_version}`)).map(([k, a]) => {
    const [feature_id, product_version] = k.split('\u0001');
    return {
      feature_id,
      product_version,
      events: a.events,
      unique_users: a.users.size,
      unique_sessions: a.sessions.size,
      first_seen: a.first,
      last_seen: a.last,
    };
  });
}

function bucketOf(ms: number, g: string): string {
  const d = new Date(ms);
  if (g === 'hour') return formatTs(Math.floor(ms / 3_600_000) * 3_600_000);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (g === 'day') return formatTs(day);
  if (g === 'week') return formatTs(day - ((d.getUTCDay() + 6) % 7) * 86_400_000);
  return formatTs(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

/** The window is a look-back of windowSeconds ending now, or [start, end] (inclusive). */
function expectedTimeline(
  window: number | { start: string; end: string },
  g: string,
  feature?: string | string[],
  version?: string,
): Row[] {
  const now = Date.now();
  const [from, to] =
    typeof window === 'number' ? [now - window * 1000, now] : [parseTs(window.start), parseTs(window.end)];
  const features = typeof feature === 'string' ? [feature] : feature;
  const rows = events.filter((e) => {
    const ms = parseTs(e.timestamp);
    return (
      ms >= from &&
      ms <= to &&
      (!features || features.includes(e.feature_id)) &&
      (!version || e.product_version === version)
    );
  });
  return sortedEntries(
    aggregate(rows, (e) => `${bucketOf(parseTs(e.timestamp), g)}\u0001${e.feature_id}`),
  ).map(([k, a]) => {
    const [bucket, feature_id] = k.split('\u0001');
    return { bucket, feature_id, events: a.events, unique_users: a.users.size };
  });
}

describe('schema whitelist', () => {
  it('matches the columns ClickHouse has', async () => {
    for (const [table, columns] of Object.entries(SCHEMA_COLUMNS)) {
      const res = await storage.admin.query({
        query:
          'SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String} ORDER BY position',
        query_params: { t: table },
        format: 'JSONEachRow',
      });
      expect((await res.json<{ name: string }>()).map((r) => r.name)).toEqual(columns);
    }
  });
});

describe('user_feature_usage', () => {
  it('answers per feature and version for several users, with and without filters', async () => {
    const users = ['usr_0', 'usr_1', 'usr_17', 'usr_90'];
    for (const u of users) {
      const want = expectedUser(u);
      expect(want.length).toBeGreaterThan(0);
      expect(await data(`user_feature_usage.json?${qs({ user_id: u })}`)).toEqual(want);
    }
    expect(
      await data(`user_feature_usage.json?${qs({ user_id: 'usr_1', feature_id: 'feature_search' })}`),
    ).toEqual(expectedUser('usr_1', 'feature_search'));
    expect(
      await data(
        `user_feature_usage.json?${qs({ user_id: 'usr_1', feature_id: 'feature_search', product_version: '2.4.1' })}`,
      ),
    ).toEqual(expectedUser('usr_1', 'feature_search', '2.4.1'));
    expect(await data(`user_feature_usage.json?${qs({ user_id: 'nobody' })}`)).toEqual([]);
  });

  it('says which parameter is missing, its type and an example', async () => {
    const res = await call('user_feature_usage.json');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; documentation: string };
    expect(body.error).toMatch(/"user_id".*String.*Example: user_id=usr_789/);
    expect(body.documentation).toMatch(/^https:/);
  });

  it('reads the per-user rollup, not the raw events', async () => {
    const res = await call(`user_feature_usage.json?${qs({ user_id: 'usr_3' })}`);
    const body = (await res.json()) as { statistics: { rows_read: number } };
    const rollup = await storage.admin.query({
      query: 'SELECT count() AS n FROM feature_usage_by_user',
      format: 'JSONEachRow',
    });
    const [{ n }] = (await rollup.json<{ n: string }>()) as [{ n: string }];
    // Tiny parts are read whole (one granule), so the bound is the rollup's size, far below the raw table.
    expect(body.statistics.rows_read).toBeLessThanOrEqual(Number(n));
    expect(Number(n)).toBeLessThan(events.length / 2);
  });
});

describe('feature_usage_summary', () => {
  it('summarises everything without a window', async () => {
    expect(await data('feature_usage_summary.json')).toEqual(expectedSummary({}));
  });

  it('is exact for windows that do not start or end on an hour', async () => {
    const day = 86_400_000;
    const cases: { start?: string; end?: string }[] = [
      { start: formatTs(NOW - 40 * day + 1_017_000), end: formatTs(NOW - 3 * day - 2_222_000) },
      { start: formatTs(NOW - 100 * day + 59_000) },
      { end: formatTs(NOW - 20 * day + 1_234_000) },
      // Within one hour, and exactly on hour boundaries.
      { start: '2030-01-01 00:00:00' },
    ];
    const t = Math.floor((NOW - 10 * day) / 3_600_000) * 3_600_000;
    cases.push({ start: formatTs(t + 600_000), end: formatTs(t + 1_800_000) });
    cases.push({ start: formatTs(t - 5 * 3_600_000), end: formatTs(t - 1_000) });
    // Windows edged exactly on events' own seconds (inclusive both ends).
    const sample = events[123] as GeneratedEvent;
    cases.push({ start: sample.timestamp, end: sample.timestamp });
    for (const c of cases) {
      const got = await data(`feature_usage_summary.json?${qs({ start_date: c.start, end_date: c.end })}`);
      expect(got, JSON.stringify(c)).toEqual(expectedSummary(c));
    }
    const c = cases[0] as { start: string; end: string };
    expect(
      await data(
        `feature_usage_summary.json?${qs({ start_date: c.start, end_date: c.end, feature_id: 'feature_export', product_version: '2.4.0' })}`,
      ),
    ).toEqual(expectedSummary({ ...c, feature: 'feature_export', version: '2.4.0' }));
  });

  it('rejects a malformed date naming the parameter, type and format', async () => {
    const res = await call(`feature_usage_summary.json?${qs({ start_date: '2023-02-30 10:00:00' })}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /"start_date".*DateTime.*YYYY-MM-DD HH:MM:SS.*Example/,
    );
  });
});

describe('feature_usage_timeline', () => {
  it('buckets events and exact unique users over the look-back window', async () => {
    const cases: [string, string, string?][] = [
      ['30 day', 'day'],
      ['7 day', 'hour'],
      ['12 hour', 'hour', 'feature_search'],
      ['30 day', 'week'],
      ['30 day', 'month', 'feature_recommendations'],
    ];
    for (const [interval, granularity, feature] of cases) {
      const got = await data(
        `feature_usage_timeline.json?${qs({ interval, granularity, feature_id: feature })}`,
      );
      const want = expectedTimeline(WINDOWS[interval as keyof typeof WINDOWS], granularity, feature);
      expect(want.length).toBeGreaterThan(0);
      expect(got, `${interval} ${granularity}`).toEqual(want);
    }
    // Defaults: 30 day, day buckets.
    expect(await data('feature_usage_timeline.json')).toEqual(expectedTimeline(WINDOWS['30 day'], 'day'));
  });

  it('takes start_date/end_date (winning over interval) and a list of features', async () => {
    const day = 86_400_000;
    const t = Math.floor((NOW - 12 * day) / 3_600_000) * 3_600_000;
    const windows = [
      { start: formatTs(NOW - 40 * day + 1_017_000), end: formatTs(NOW - 3 * day - 2_222_000) },
      { start: formatTs(t + 600_000), end: formatTs(t + 1_800_000) },
      { start: formatTs(t), end: formatTs(t + 5 * 3_600_000 - 1_000) },
      { start: formatTs(t - 3 * 3_600_000 + 1_000), end: formatTs(t + 2 * 3_600_000) },
      { start: '2001-01-01 00:00:00', end: '2001-01-31 23:59:59' },
    ];
    for (const w of windows) {
      for (const [granularity, features, version] of [
        ['day', undefined, undefined],
        ['hour', ['feature_search', 'feature_export'], undefined],
        ['week', ['feature_share'], '2.4.0'],
      ] as [string, string[] | undefined, string | undefined][]) {
        const got = await data(
          `feature_usage_timeline.json?${qs({
            start_date: w.start,
            end_date: w.end,
            interval: '7 day',
            granularity,
            feature_id: features?.join(','),
            product_version: version,
          })}`,
        );
        expect(got, `${JSON.stringify(w)} ${granularity} ${features}`).toEqual(
          expectedTimeline(w, granularity, features, version),
        );
      }
    }
    // Repeated keys are a list too; an Array of one is the old single-feature filter.
    const w = windows[0] as { start: string; end: string };
    const repeated = await data(
      `feature_usage_timeline.json?start_date=${w.start}&end_date=${w.end}&feature_id=feature_search&feature_id=feature_share`,
    );
    expect(repeated).toEqual(expectedTimeline(w, 'day', ['feature_search', 'feature_share']));
    expect(repeated.length).toBeGreaterThan(10);
  });

  it('refuses intervals and granularities outside the pattern', async () => {
    for (const bad of [
      { interval: '7 days; DROP' },
      { interval: '0 day' },
      { interval: '7 fortnight' },
      { granularity: 'minute' },
    ]) {
      const res = await call(`feature_usage_timeline.json?${qs(bad)}`);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toContain(`"${Object.keys(bad)[0]}"`);
    }
  });
});

describe('response formats', () => {
  it('json carries meta, data, rows, rows_before_limit_at_least and statistics, 64-bit ints unquoted', async () => {
    const res = await call(`user_feature_usage.json?${qs({ user_id: 'usr_0', limit: '2' })}`);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await res.json()) as Record<string, unknown> & { data: Row[]; meta: unknown[] };
    expect(Object.keys(body)).toEqual(['meta', 'data', 'rows', 'rows_before_limit_at_least', 'statistics']);
    expect(body.meta).toContainEqual({ name: 'events', type: 'UInt64' });
    expect(body.rows).toBe(2);
    expect(body.rows_before_limit_at_least).toBe(expectedUser('usr_0').length);
    expect(typeof body.data[0]?.events).toBe('number');
    const quoted = (await (
      await call(
        `user_feature_usage.json?${qs({ user_id: 'usr_0', output_format_json_quote_64bit_integers: '1' })}`,
      )
    ).json()) as { data: Row[] };
    expect(typeof quoted.data[0]?.events).toBe('string');
  });

  it('csv has a header row; ndjson is one object per line', async () => {
    const want = expectedUser('usr_2');
    const csv = await call(`user_feature_usage.csv?${qs({ user_id: 'usr_2' })}`);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toBe('"feature_id","product_version","events","sessions","first_used","last_used"');
    expect(lines).toHaveLength(want.length + 1);
    const nd = await call(`user_feature_usage.ndjson?${qs({ user_id: 'usr_2' })}`);
    expect(nd.headers.get('content-type')).toBe('application/x-ndjson');
    const rows = (await nd.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toEqual(want);
  });

  it('takes parameters from a POST JSON body too', async () => {
    const res = await call('user_feature_usage.json', ADMIN, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user_id: 'usr_2' }),
    });
    expect(((await res.json()) as { data: Row[] }).data).toEqual(expectedUser('usr_2'));
  });
});

describe('auth and errors', () => {
  it('needs a token with PIPES:READ on the pipe or ADMIN', async () => {
    const path = `user_feature_usage.json?${qs({ user_id: 'usr_0' })}`;
    expect((await call(path, null)).status).toBe(401);
    expect((await call(path, 'nope')).status).toBe(403);
    expect((await call(path, READER)).status).toBe(200);
    expect((await call(`${path}&token=${READER}`, null)).status).toBe(200);
    expect((await call('feature_usage_summary.json', READER)).status).toBe(403);
  });

  it('404 for an unknown pipe, 400 for an unknown format; q runs over the result', async () => {
    const missing = await call('no_such_pipe.json');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: expect.stringContaining('no_such_pipe') });
    expect((await call('user_feature_usage.xml?user_id=x')).status).toBe(400);
    const q = await call(`user_feature_usage.json?${qs({ user_id: 'x', q: 'SELECT count() AS n FROM _' })}`);
    expect(q.status).toBe(200);
    expect(((await q.json()) as { data: unknown[] }).data).toEqual([{ n: 0 }]);
  });

  it('ignores unknown and reserved parameters', async () => {
    const got = await data(
      `user_feature_usage.json?${qs({ user_id: 'usr_1', whatever: "'", from: 'ts-sdk', tag: 'x' })}`,
    );
    expect(got).toEqual(expectedUser('usr_1'));
  });
});

describe('listing and OpenAPI', () => {
  it('GET /v0/pipes lists pipes with their parameters, filtered by token', async () => {
    const all = (await (await call('', ADMIN)).json()) as { pipes: { name: string; parameters: Row[] }[] };
    expect(all.pipes.map((p) => p.name).sort()).toEqual([
      'churn_signals',
      'cross_feature_usage',
      'events',
      'feature_adoption',
      'feature_retention',
      'feature_usage_summary',
      'feature_usage_timeline',
      'kpis',
      'top_features',
      'user_feature_usage',
      'user_recent_features',
    ]);
    const user = all.pipes.find((p) => p.name === 'user_feature_usage');
    expect(user?.parameters).toContainEqual(
      expect.objectContaining({ name: 'user_id', type: 'String', required: true }),
    );
    const mine = (await (await call('', READER)).json()) as { pipes: { name: string }[] };
    expect(mine.pipes.map((p) => p.name)).toEqual(['user_feature_usage']);
  });

  it('openapi.json describes parameters and the output columns', async () => {
    const res = await app.request('http://api.example:7181/v0/pipes/openapi.json', {
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    interface Op {
      parameters: { name: string; schema: Row; required: boolean }[];
      responses: Record<string, { content: Record<string, { schema: { properties: Record<string, Row> } }> }>;
    }
    const doc = (await res.json()) as {
      openapi: string;
      servers: unknown;
      paths: Record<string, { get: Op }>;
      components: unknown;
    };
    expect(doc.openapi).toMatch(/^3\.0/);
    expect(doc.servers).toEqual([{ url: 'http://api.example:7181/v0' }]);
    const get = doc.paths['/pipes/feature_usage_summary.json']?.get as Op;
    expect(get.parameters.find((p) => p.name === 'start_date')?.schema).toEqual({
      type: 'string',
      format: 'date-time',
    });
    expect(get.parameters.find((p) => p.name === 'limit')?.schema).toEqual({
      type: 'integer',
      format: 'int64',
      default: 10000,
    });
    const data = get.responses['200']?.content['application/json']?.schema.properties.data as {
      items: { properties: Record<string, Row> };
    };
    const props = data.items.properties;
    expect(props.unique_users).toEqual({ type: 'integer', format: 'int64' });
    expect(props.first_seen).toEqual({ type: 'string', format: 'date-time' });
    expect(props.feature_id).toEqual({ type: 'string' });
    const timeline = doc.paths['/pipes/feature_usage_timeline.json']?.get as Op;
    expect(timeline.parameters.find((p) => p.name === 'granularity')?.schema).toMatchObject({
      enum: ['hour', 'day', 'week', 'month'],
    });
    expect(doc.components).toMatchObject({
      securitySchemes: { TokenQuery: { type: 'apiKey', in: 'query', name: 'token' } },
    });
  });
});

describe('pipes written by users', () => {
  it('Array params (comma list or repeated keys) and sql_and operators bind and filter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipes-extra-'));
    writeFileSync(
      join(dir, 'by_features.pipe'),
      `NODE counts
SQL >
    %
    SELECT feature_id, count() AS events FROM feature_events
    WHERE {{ sql_and(feature_id__in=Array(features, 'String', description="features"), product_version__not_in=Array(skip, 'String'), timestamp__gte=DateTime(since)) }}
    GROUP BY feature_id ORDER BY feature_id
TYPE endpoint
`,
    );
    const { pipes, errors } = loadPipes(dir);
    expect(errors).toEqual([]);
    const extra = createPipesApp({ client: storage.admin, pipes, tokens });
    const want = (feats: string[], skip: string[]) => {
      const counts = new Map<string, number>();
      for (const e of events) {
        if (feats.includes(e.feature_id) && !skip.includes(e.product_version))
          counts.set(e.feature_id, (counts.get(e.feature_id) ?? 0) + 1);
      }
      return [...counts.entries()]
        .sort(([a], [b]) => byKey(a, b))
        .map(([feature_id, n]) => ({ feature_id, events: n }));
    };
    const get = async (q: string) =>
      (
        (await (
          await extra.request(`/by_features.json?${q}`, { headers: { Authorization: `Bearer ${ADMIN}` } })
        ).json()) as { data: Row[] }
      ).data;
    expect(await get('features=feature_search,feature_export')).toEqual(
      want(['feature_search', 'feature_export'], []),
    );
    expect(await get('features=feature_search&features=feature_export&skip=2.4.1')).toEqual(
      want(['feature_search', 'feature_export'], ['2.4.1']),
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('a broken file is reported with file and line; the others still load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipes-broken-'));
    writeFileSync(join(dir, 'good.pipe'), 'NODE a\nSQL >\n    SELECT 1 AS one\nTYPE endpoint\n');
    writeFileSync(
      join(dir, 'bad.pipe'),
      'NODE a\nSQL >\n    %\n    SELECT 1\n    {% if defined(x) %}\n    WHERE 1\nTYPE endpoint\n',
    );
    writeFileSync(join(dir, 'worse.pipe'), 'NODE a\nSQL >\n    %\n    SELECT {{ eval(x) }}\n');
    const { pipes, errors } = loadPipes(dir);
    expect([...pipes.keys()]).toEqual(['good']);
    expect(errors).toEqual([
      { file: join(dir, 'bad.pipe'), line: 5, message: expect.stringContaining('never closed') },
      {
        file: join(dir, 'worse.pipe'),
        line: 4,
        message: expect.stringContaining('unknown template function eval()'),
      },
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('maps ClickHouse errors to JSON: 500 with the code, 408 on timeout, and the next answer is clean', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipes-err-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'broken_sql.pipe'),
      'NODE a\nSQL >\n    SELECT count() FROM no_such_table\nTYPE endpoint\n',
    );
    writeFileSync(
      join(dir, 'slow.pipe'),
      'NODE a\nSQL >\n    SELECT sleepEachRow(0.5) AS s FROM numbers(6)\nTYPE endpoint\n',
    );
    writeFileSync(join(dir, 'fast.pipe'), 'NODE a\nSQL >\n    SELECT 42 AS answer\nTYPE endpoint\n');
    const { pipes } = loadPipes(dir);
    const extra = createPipesApp({ client: storage.admin, pipes, tokens, timeoutSeconds: 1 });
    const get = (p: string) => extra.request(`/${p}`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    const broken = await get('broken_sql.json');
    expect(broken.status).toBe(500);
    expect(broken.headers.get('x-db-exception-code')).toBe('60');
    const body = (await broken.json()) as { error: string };
    expect(body.error).not.toMatch(/\n\s+at /);
    const slow = await get('slow.json');
    expect(slow.status).toBe(408);
    const fast = await get('fast.json');
    expect(((await fast.json()) as { data: Row[] }).data).toEqual([{ answer: 42 }]);
    rmSync(dir, { recursive: true, force: true });
  });
});

// Last: it stores one more event, which the comparisons above must not see.
describe('result cache', () => {
  it('serves a stored answer until an insert stores rows; Cache-Control: no-cache skips it', async () => {
    const writes = trackWrites(clientStore(storage.admin));
    const cache = new ResultCache({ ttlMs: 60_000, maxBytes: 1 << 20, generation: writes.current });
    const { pipes } = loadPipes('pipes');
    const cached = new Hono().route(
      '/v0/pipes',
      createPipesApp({ client: storage.admin, pipes, tokens, cache }),
    );
    const get = async (headers: Record<string, string> = {}) => {
      const res = await cached.request('/v0/pipes/user_feature_usage.json?user_id=cache_user', {
        headers: { Authorization: `Bearer ${ADMIN}`, ...headers },
      });
      expect(res.status).toBe(200);
      return { cache: res.headers.get('x-cache'), rows: ((await res.json()) as { rows: number }).rows };
    };
    expect(await get()).toEqual({ cache: 'MISS', rows: 0 });
    expect(await get()).toEqual({ cache: 'HIT', rows: 0 });
    expect(await get({ 'Cache-Control': 'no-cache' })).toEqual({ cache: 'BYPASS', rows: 0 });
    const event = {
      event_id: 'evt_cache_1',
      user_id: 'cache_user',
      feature_id: 'feature_search',
      product_version: '1.0.0',
      event_type: 'feature_used',
      timestamp: formatTs(NOW - 1_000),
      session_id: 'sess_cache',
      metadata: '{}',
    };
    await writes.store.insert('feature_events', [JSON.stringify(event)], 'cache-test-1');
    expect(await get()).toEqual({ cache: 'MISS', rows: 1 });
    expect(await get()).toEqual({ cache: 'HIT', rows: 1 });
  });
});
