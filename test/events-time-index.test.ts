import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertJsonLines, migrate, type StorageClient } from '../src/clickhouse/index.js';
import { loadPipes, type Pipe } from '../src/pipes/index.js';
import { eventsPage } from './helpers/events-page.js';
import { formatTs } from './helpers/generate-events.js';
import { embeddedStorage } from './helpers/storage.js';

// Migration 014 (a min/max index on the raw events' timestamp) on a data dir written before it,
// and on rows written after it: every part carries the index, and a feature's page
// (events?feature_id=) answers as it does with the index ignored (use_skip_indexes = 0). How
// many rows the index saves depends on the order the granules are read in (ClickHouse's top-K
// filter), so that is measured (scripts/bench/read-path.ts, docs/performance.md), not asserted.
let storage: StorageClient;
let events: Pipe;
const dirs: string[] = [];
const DAY = 86_400_000;

/**
 * 320,000 events of one feature over 20 days of one month (one part per insert), in 8 versions:
 * eight runs of 40,000 rows (about 5 granules each) in the table's order (feature, version,
 * time), as a popular feature's month looks at 10M events.
 */
const ROWS = 320_000;
const START = Date.UTC(2026, 9, 2);
const rows = (feature: string, prefix: string) =>
  Array.from({ length: ROWS }, (_, i) =>
    JSON.stringify({
      event_id: `${prefix}${i}`,
      user_id: `u${(i * 7919) % 3000}`,
      feature_id: feature,
      product_version: `1.${i % 8}`,
      event_type: 'feature_used',
      timestamp: formatTs(START + Math.floor((i / ROWS) * 20 * DAY)),
    }),
  );

beforeAll(async () => {
  storage = await embeddedStorage('events-time-index-');
  const old = mkdtempSync(join(tmpdir(), 'events-time-index-mig-'));
  dirs.push(old);
  cpSync('clickhouse', old, { recursive: true, filter: (src) => !/014_/.test(src) });
  await migrate(storage.admin, old);
  await insertJsonLines(storage.admin, 'feature_events', rows('f_before', 'b'), 'before-014');
  const report = await migrate(storage.admin, 'clickhouse');
  expect(report.applied).toEqual(['014_events_time_index.sql']);
  await insertJsonLines(storage.admin, 'feature_events', rows('f_after', 'a'), 'after-014');
  const pipe = loadPipes('pipes').pipes.get('events');
  if (!pipe) throw new Error('no pipe events');
  events = pipe;
}, 120_000);
afterAll(async () => {
  await storage?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('migration 014: the timestamp min/max index', () => {
  it('is built for the parts stored before it and written with the parts after', async () => {
    const r = await storage.admin.query({
      query: `SELECT count() AS parts, countIf(secondary_indices_compressed_bytes > 0) AS indexed
              FROM system.parts WHERE database = currentDatabase() AND table = 'feature_events' AND active`,
      format: 'JSONEachRow',
    });
    const [{ parts, indexed } = { parts: '0', indexed: '0' }] = await r.json<{
      parts: string;
      indexed: string;
    }>();
    expect(Number(parts)).toBeGreaterThanOrEqual(2);
    expect(indexed).toBe(parts);
  });

  for (const feature of ['f_before', 'f_after'])
    it(`answers a page of ${feature} as without it`, async () => {
      const params = {
        feature_id: feature,
        start_date: '2026-10-01 00:00:00',
        end_date: '2026-10-31 23:59:59',
        limit: '100',
      };
      const indexed = await eventsPage(storage.admin, events, params);
      const unindexed = await eventsPage(storage.admin, events, params, { use_skip_indexes: 0 });
      expect(indexed).toHaveLength(100);
      expect(indexed).toEqual(unindexed);
      // Keyset paging from inside the page: the next page, too.
      const last = indexed.at(-1) as { timestamp: string; event_id: string };
      const next = { ...params, before_timestamp: last.timestamp, before_event_id: last.event_id };
      const page2 = await eventsPage(storage.admin, events, next);
      expect(page2).toEqual(await eventsPage(storage.admin, events, next, { use_skip_indexes: 0 }));
      expect(page2).toHaveLength(100);
    });
});
