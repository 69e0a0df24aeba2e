import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertJsonLines, migrate, type StorageClient } from '../src/clickhouse/index.js';
import { SINGLE } from '../src/clickhouse/migrations/profile.js';
import { applyConfiguredRetention } from '../src/clickhouse/retention/index.js';
import { formatTs, prng } from './helpers/generate-events.js';
import { event } from './helpers/service.js';
import { embeddedStorage } from './helpers/storage.js';

// Migration 010 (monthly partitions for retention) on a data dir written under yearly
// partitions: the raw rows, the rollups and the projection come through unchanged, and the
// views keep writing afterwards. Then the retention TTLs on top, idempotently.
let storage: StorageClient;
const dirs: string[] = [];

async function rows<T>(sql: string): Promise<T[]> {
  const r = await storage.admin.query({ query: sql, format: 'JSONEachRow' });
  return r.json<T>();
}

/** Everything a reader of the store could see: raw rows (fingerprinted), both rollups, merged per key. */
async function snapshot() {
  return {
    raw: await rows(
      'SELECT count() AS n, toString(sum(cityHash64(event_id, user_id, feature_id, product_version, event_type, timestamp, session_id, metadata, account_id, inserted_at))) AS fp FROM feature_events',
    ),
    hourly: await rows(
      `SELECT feature_id, product_version, hour, sum(events) AS e, uniqExactMerge(users) AS u, uniqExactMerge(sessions) AS s,
              min(first_seen) AS f, max(last_seen) AS l
       FROM feature_usage_hourly GROUP BY ALL ORDER BY ALL`,
    ),
    byUser: await rows(
      `SELECT user_id, feature_id, product_version, sum(events) AS e, uniqExactMerge(sessions) AS s, min(first_seen) AS f, max(last_seen) AS l
       FROM feature_usage_by_user GROUP BY ALL ORDER BY ALL`,
    ),
  };
}

const table = async (name: string) =>
  (
    await rows<{ partition_key: string; engine_full: string }>(
      `SELECT partition_key, engine_full FROM system.tables WHERE database = currentDatabase() AND name = '${name}'`,
    )
  )[0];

// Six years of events (72 months), several users, sessions and versions: many yearly parts.
const rnd = prng(7);
const history = Array.from({ length: 3000 }, (_, i) =>
  JSON.stringify(
    event({
      event_id: `h_${i}`,
      user_id: `u_${Math.floor(rnd() * 40)}`,
      feature_id: `f_${Math.floor(rnd() * 5)}`,
      product_version: ['1.0', '2.0'][i % 2],
      session_id: rnd() < 0.1 ? '' : `s_${Math.floor(rnd() * 300)}`,
      account_id: `a_${i % 3}`,
      timestamp: formatTs(Date.UTC(2019, 0, 1) + Math.floor(rnd() * 6 * 365 * 86_400) * 1000),
    }),
  ),
);

let before: Awaited<ReturnType<typeof snapshot>>;

beforeAll(async () => {
  storage = await embeddedStorage('retention-migration-');
  const old = mkdtempSync(join(tmpdir(), 'retention-mig-'));
  dirs.push(old);
  cpSync('clickhouse', old, { recursive: true, filter: (src) => !/0[1-9]\d_/.test(src) });
  await migrate(storage.admin, old);
  for (let i = 0; i < history.length; i += 500)
    await insertJsonLines(storage.admin, 'feature_events', history.slice(i, i + 500), `b${i}`);
  expect((await table('feature_events'))?.partition_key).toBe('toYear(timestamp)');
  before = await snapshot();
  expect(before.raw).toEqual([{ n: 3000, fp: expect.any(String) }]);
  const report = await migrate(storage.admin, 'clickhouse');
  expect(report.applied).toContain('010_monthly_partitions.sql');
}, 120_000);
afterAll(async () => {
  await storage?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('migration 010: monthly partitions', () => {
  it('rebuilds the raw table by month with identical rows, rollups and projection', async () => {
    const t = await table('feature_events');
    expect(t?.partition_key).toBe('toYYYYMM(timestamp)');
    expect(t?.engine_full).toMatch(/ttl_only_drop_parts = 1/);
    expect(await snapshot()).toEqual(before);
    const partitions = await rows<{ n: string }>(
      "SELECT uniqExact(partition) AS n FROM system.parts WHERE table = 'feature_events' AND active",
    );
    expect(Number(partitions[0]?.n)).toBe(72);
    // The per-user projection (007) is there and built for the copied rows.
    const proj = await rows<{ n: string }>(
      "SELECT count() AS n FROM system.projection_parts WHERE table = 'feature_events' AND name = 'events_by_user' AND active",
    );
    expect(Number(proj[0]?.n)).toBeGreaterThan(0);
    expect(
      await rows("SELECT name FROM system.tables WHERE name LIKE 'feature_events_%' ORDER BY name"),
    ).toEqual([
      // 013's time-ordered copy and its view; nothing left over from the rebuild.
      { name: 'feature_events_by_time' },
      { name: 'feature_events_by_time_mv' },
      { name: 'feature_events_quarantine' },
      { name: 'feature_events_quarantine_replays' },
    ]);
  });

  it('the views write again after the swap, and a back-fill across ten years is one insert', async () => {
    const decade = Array.from({ length: 120 }, (_, m) =>
      JSON.stringify(
        event({
          event_id: `d_${m}`,
          user_id: 'u_decade',
          feature_id: 'f_decade',
          timestamp: formatTs(Date.UTC(2010, m, 15)),
        }),
      ),
    );
    await insertJsonLines(storage.admin, 'feature_events', decade, 'decade');
    expect(
      await rows("SELECT sum(events) AS e FROM feature_usage_hourly WHERE feature_id = 'f_decade'"),
    ).toEqual([{ e: 120 }]);
    expect(
      await rows("SELECT sum(events) AS e FROM feature_usage_by_user WHERE user_id = 'u_decade'"),
    ).toEqual([{ e: 120 }]);
    // One part per month the insert touched (docs/operations.md: part count per insert); the
    // history above starts in 2019, so 2010-2018 hold only this insert's 108 months.
    const parts = await rows<{ n: string; p: string }>(
      "SELECT count() AS n, uniqExact(partition) AS p FROM system.parts WHERE table = 'feature_events' AND active AND partition < '201901'",
    );
    expect(parts).toEqual([{ n: 108, p: 108 }]);
  });
});

describe('retention TTLs', () => {
  const policy = (raw: number, quarantine: number) => ({
    RAW_RETENTION_DAYS: raw,
    QUARANTINE_RETENTION_DAYS: quarantine,
  });

  // MODIFY TTL rewrites the parts of every month of 3,000 rows in three tables: ~50 s here.
  it('sets the TTLs once: a second start with the same settings runs nothing', async () => {
    expect(await applyConfiguredRetention(storage.admin, policy(90, 30), SINGLE)).toEqual([
      'ALTER TABLE feature_events MODIFY TTL timestamp + toIntervalDay(90)',
      'ALTER TABLE feature_events_by_time MODIFY TTL timestamp + toIntervalDay(90)',
      'ALTER TABLE feature_events_quarantine MODIFY TTL insertion_date + toIntervalDay(30)',
    ]);
    expect((await table('feature_events'))?.engine_full).toMatch(/ TTL timestamp \+ toIntervalDay\(90\) /);
    expect(await applyConfiguredRetention(storage.admin, policy(90, 30), SINGLE)).toEqual([]);
  }, 180_000);

  it('changes only what differs, removes a TTL for 0, and skips tables that do not exist', async () => {
    expect(await applyConfiguredRetention(storage.admin, policy(120, 30), SINGLE, ['nowhere'])).toEqual([
      'ALTER TABLE feature_events MODIFY TTL timestamp + toIntervalDay(120)',
      'ALTER TABLE feature_events_by_time MODIFY TTL timestamp + toIntervalDay(120)',
    ]);
    expect(await applyConfiguredRetention(storage.admin, policy(0, 0), SINGLE)).toEqual([
      'ALTER TABLE feature_events REMOVE TTL',
      'ALTER TABLE feature_events_by_time REMOVE TTL',
      'ALTER TABLE feature_events_quarantine REMOVE TTL',
    ]);
    expect((await table('feature_events'))?.engine_full).not.toMatch(/ TTL /);
    expect(await applyConfiguredRetention(storage.admin, policy(0, 0), SINGLE)).toEqual([]);
  }, 180_000);

  it('takes the migration lock to change a TTL, and leaves it free', async () => {
    const epochs = async () => rows<{ n: string }>('SELECT count() AS n FROM schema_lock');
    const n0 = Number((await epochs())[0]?.n);
    await applyConfiguredRetention(storage.admin, policy(90, 30), SINGLE);
    expect(Number((await epochs())[0]?.n)).toBeGreaterThan(n0);
    const n1 = Number((await epochs())[0]?.n);
    await applyConfiguredRetention(storage.admin, policy(90, 30), SINGLE);
    expect(Number((await epochs())[0]?.n)).toBe(n1);
  });
});
