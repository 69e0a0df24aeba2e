import fc from 'fast-check';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../src/auth/index.js';
import { insertJsonLines } from '../src/clickhouse/index.js';
import { createPipesApp } from '../src/http/pipes-route.js';
import { ReadCoalescer } from '../src/pipes/read-coalescer.js';
import { ResultCache } from '../src/pipes/result-cache.js';
import { type AnalyticsEvent, FEATURES, generateAnalyticsEvents } from './helpers/analytics-events.js';
import { DAY } from './helpers/analytics-expected.js';
import { openPipesFixture, type PipesFixture } from './helpers/pipes-fixture.js';

// Lookups answered together (read-coalescer.ts) against the same lookups answered alone, on
// embedded chDB: same status, same JSON but for statistics (the batch's, docs/pipes.md).
// One reader slot, so every request that arrives while another runs waits and is coalesced.
const ADMIN = 'admin-token';
const NOW = Date.now();
const EDGES = [0.5, 1, 7, 14, 28, 30, 60].map((d) => d * DAY);
const PIPES = ['user_feature_usage', 'user_recent_features', 'events'] as const;

let fixture: PipesFixture;
let events: AnalyticsEvent[];
let solo: Hono;
const tokens = new TokenStore([{ name: 'admin', token: ADMIN, scopes: [{ type: 'ADMIN' }] }]);
const appWith = (coalescer: ReadCoalescer, cache?: ResultCache) =>
  new Hono().route(
    '/v0/pipes',
    createPipesApp({ client: fixture.storage.admin, pipes: fixture.pipes, tokens, coalescer, cache }),
  );

beforeAll(async () => {
  events = generateAnalyticsEvents({ now: NOW, avoidAgo: EDGES });
  fixture = await openPipesFixture(
    'coalesce-test',
    events.map((e) => JSON.stringify(e)),
  );
  solo = new Hono().route(
    '/v0/pipes',
    createPipesApp({ client: fixture.storage.admin, pipes: fixture.pipes, tokens }),
  );
});

afterAll(async () => {
  await fixture?.close();
});

type Params = Record<string, string>;
const get = async (app: Hono, pipe: string, p: Params) => {
  const res = await app.request(`/v0/pipes/${pipe}.json?${new URLSearchParams(p)}`, {
    headers: { Authorization: `Bearer ${ADMIN}`, 'Cache-Control': 'no-cache' },
  });
  const text = await res.text();
  if (res.status !== 200) return { status: res.status, body: text };
  const { statistics, ...rest } = JSON.parse(text) as Record<string, unknown>;
  return { status: res.status, body: rest, statistics: typeof statistics };
};

const user = fc.oneof(
  fc.integer({ min: 0, max: 75 }).map((u) => `usr_${u}`), // 70 exist: a few unknown
  fc.constantFrom('', 'a,b', "o'hara", 'usr_1 ', 'ünï'),
);
// A few shapes of the other parameters per pipe, so requests share groups (and batches) often.
const others: Record<(typeof PIPES)[number], Params[]> = {
  user_feature_usage: [
    {},
    { limit: '1' },
    { limit: '3' },
    { feature_id: FEATURES[0] as string },
    { limit: 'x' },
  ],
  user_recent_features: [{}, { days: '30' }, { days: '0' }],
  events: [{}, { limit: '2' }, { interval: '7 day', event_type: 'feature_used' }, { limit: '2000' }],
};
const request = fc.tuple(fc.constantFrom(...PIPES), fc.nat(), user).map(([pipe, k, user_id]) => {
  const shapes = others[pipe];
  return [pipe, { ...shapes[k % shapes.length], user_id }] as const;
});

describe('coalesced lookups', () => {
  it('answer each request as it is answered alone (generated parameter sets)', async () => {
    const coalescer = new ReadCoalescer({ slots: 1 });
    const app = appWith(coalescer);
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 2, maxLength: 40 }), async (requests) => {
        const together = await Promise.all(requests.map(([pipe, p]) => get(app, pipe, p as Params)));
        for (const [i, [pipe, p]] of requests.entries()) {
          expect(together[i], `${pipe} ${JSON.stringify(p)}`).toEqual(await get(solo, pipe, p as Params));
        }
      }),
      { numRuns: 25 },
    );
    // Not a property of solo answers only: requests did run as batches.
    expect(coalescer.batches).toBeGreaterThan(2);
    expect(coalescer.coalesced).toBeGreaterThan(5);
  });

  it('answers a fresh coalescer first request alone, then concurrent lookups as one query each pipe', async () => {
    for (const pipe of PIPES) {
      const coalescer = new ReadCoalescer({ slots: 1 });
      const app = appWith(coalescer);
      const users = Array.from({ length: 14 }, (_, i) => ({ user_id: `usr_${i * 5}` }));
      const answers = await Promise.all(users.map((p) => get(app, pipe, p)));
      // The first ran alone at once (its answer is the group's shape), the 13 that waited as one
      // batch; a user at the page's LIMIT is answered alone (rows_before_limit_at_least unknown).
      expect(coalescer.batches, pipe).toBe(1);
      expect(coalescer.coalesced, pipe).toBeGreaterThanOrEqual(10);
      for (const [i, p] of users.entries()) expect(answers[i], pipe).toEqual(await get(solo, pipe, p));
      expect(
        answers.some(
          (a) =>
            Array.isArray((a.body as { data?: unknown[] }).data) &&
            (a.body as { data: unknown[] }).data.length > 0,
        ),
      ).toBe(true);
    }
  });

  it('keeps the result cache in front: a cached answer is served without a query, an insert shows', async () => {
    let generation = 0;
    const cache = new ResultCache({ ttlMs: 60_000, maxBytes: 1 << 24, generation: () => generation });
    const coalescer = new ReadCoalescer({ slots: 1 });
    const app = appWith(coalescer, cache);
    const ask = (u: string) =>
      app.request(`/v0/pipes/user_feature_usage.json?user_id=${u}`, {
        headers: { Authorization: `Bearer ${ADMIN}` },
      });
    const first = await Promise.all(['usr_2', 'usr_3', 'usr_4', 'usr_5'].map(ask));
    expect(first.map((r) => r.headers.get('x-cache'))).toEqual(['MISS', 'MISS', 'MISS', 'MISS']);
    const before = await (await ask('usr_4')).json();
    expect((await ask('usr_4')).headers.get('x-cache')).toBe('HIT');
    const template = events.find((e) => e.user_id === 'usr_4') as AnalyticsEvent;
    const added = { ...template, event_id: 'coalesce-new', feature_id: 'feature_coalesce_new' };
    await insertJsonLines(fixture.storage.admin, 'feature_events', [JSON.stringify(added)], 'coalesce-new');
    generation++;
    const after = await ask('usr_4');
    expect(after.headers.get('x-cache')).toBe('MISS');
    const rows = ((await after.json()) as { data: Array<{ feature_id: string }> }).data;
    expect(rows.length).toBe((before as { data: unknown[] }).data.length + 1);
    expect(rows.some((r) => r.feature_id === 'feature_coalesce_new')).toBe(true);
  });
});
