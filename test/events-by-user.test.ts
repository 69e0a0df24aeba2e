import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertJsonLines } from '../src/clickhouse/index.js';
import { readText } from '../src/clickhouse/read-text.js';
import { renderPipe } from '../src/pipes/index.js';
import { formatTs } from './helpers/generate-events.js';
import { openPipesFixture, type PipesFixture } from './helpers/pipes-fixture.js';

// The per-user lookups read the events_by_user projection (clickhouse/007): checked in the
// plan ClickHouse makes for each pipe's rendered SQL. Enough rows in one part that the
// table itself (sorted by feature, then time) would have to read many granules.
let fixture: PipesFixture;
const NOW = Date.now();

beforeAll(async () => {
  const lines = Array.from({ length: 200_000 }, (_, i) =>
    JSON.stringify({
      event_id: `e${i}`,
      user_id: `u${(i * 7919) % 2000}`,
      feature_id: `f${i % 5}`,
      product_version: '1.0',
      event_type: 'feature_used',
      timestamp: formatTs(NOW - 600_000 - Math.floor((i / 200_000) * 20 * 86_400_000)),
    }),
  );
  fixture = await openPipesFixture('events-by-user', []);
  // One insert, one part.
  await insertJsonLines(fixture.storage.admin, 'feature_events', lines, 'events-by-user');
});

afterAll(async () => {
  await fixture?.close();
});

async function plan(pipe: string, params: Record<string, string>): Promise<string> {
  const p = fixture.pipes.get(pipe);
  if (!p) throw new Error(`no pipe ${pipe}`);
  const { sql, params: bound } = renderPipe(p, new Map(Object.entries(params).map(([k, v]) => [k, [v]])));
  const res = await fixture.storage.admin.exec({
    query: `EXPLAIN ${sql}`,
    query_params: bound,
    clickhouse_settings: { default_format: 'TabSeparatedRaw' },
  });
  return readText(res.stream);
}

describe('events_by_user projection', () => {
  it('serves user_recent_features and events?user_id=; the rest read the table', async () => {
    const projection = 'ReadFromMergeTree (events_by_user)';
    expect(await plan('user_recent_features', { user_id: 'u7' })).toContain(projection);
    expect(await plan('user_recent_features', { user_id: 'u7', days: '30' })).toContain(projection);
    expect(await plan('events', { user_id: 'u7' })).toContain(projection);
    expect(await plan('events', { feature_id: 'f1' })).not.toContain(projection);
    expect(await plan('top_features', {})).not.toContain(projection);
  });
});
