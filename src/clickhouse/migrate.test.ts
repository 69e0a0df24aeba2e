import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertBatch } from '../loader/insert-batch.js';
import { createStorageClient, type StorageClient } from './client.js';
import { migrate, readMigrations, splitStatements } from './migrate.js';

const REPO_MIGRATIONS = fileURLToPath(new URL('../../clickhouse', import.meta.url));
let storage: StorageClient;
let dir: string;

beforeAll(async () => {
  storage = await createStorageClient({
    DATA_DIR: mkdtempSync(join(tmpdir(), 'migrate-')),
    CLICKHOUSE_USER: 'default',
    CLICKHOUSE_PASSWORD: '',
    CLICKHOUSE_DATABASE: 'default',
  });
  dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  cpSync(REPO_MIGRATIONS, dir, { recursive: true });
});
afterAll(async () => storage?.close());

const tables = async () =>
  (
    await (
      await storage.admin.query({
        query: 'SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name',
        format: 'JSONEachRow',
      })
    ).json<{ name: string }>()
  ).map((r) => r.name);

const scalar = async (sql: string) =>
  Number(
    Object.values(
      (
        await (
          await storage.admin.query({ query: sql, format: 'JSONEachRow' })
        ).json<Record<string, unknown>>()
      )[0] ?? {},
    )[0],
  );

describe('migrate', () => {
  it('splits files into statements, ignoring comments', () => {
    expect(splitStatements('-- a ; comment\nCREATE TABLE a (x Int8) ENGINE = Memory;\n\nSELECT 1;')).toEqual([
      'CREATE TABLE a (x Int8) ENGINE = Memory',
      'SELECT 1',
    ]);
  });

  it('applies every file once, in order; a second run changes nothing', async () => {
    const first = await migrate(storage.admin, dir);
    expect(first.applied).toEqual([
      '001_feature_events.sql',
      '002_feature_events_quarantine.sql',
      '003_feature_usage_hourly.sql',
      '004_feature_usage_by_user.sql',
      ...first.applied.slice(4),
    ]);
    const after = await tables();
    expect(after).toEqual(
      expect.arrayContaining([
        'feature_events',
        'feature_events_quarantine',
        'feature_usage_hourly',
        'feature_usage_by_user',
        'schema_migrations',
      ]),
    );
    const second = await migrate(storage.admin, dir);
    expect(second.applied).toEqual([]);
    expect(second.skipped).toEqual(first.applied);
    expect(await tables()).toEqual(after);
    expect(await scalar('SELECT count() FROM schema_migrations FINAL')).toBe(first.applied.length);
  });

  it('applies a new file and refuses an edited one', async () => {
    writeFileSync(
      join(dir, '900_extra.sql'),
      'CREATE TABLE IF NOT EXISTS extra (x UInt8) ENGINE = MergeTree ORDER BY x;',
    );
    expect((await migrate(storage.admin, dir)).applied).toEqual(['900_extra.sql']);
    writeFileSync(
      join(dir, '900_extra.sql'),
      'CREATE TABLE IF NOT EXISTS extra2 (x UInt8) ENGINE = MergeTree ORDER BY x;',
    );
    await expect(migrate(storage.admin, dir)).rejects.toThrow(/900_extra.sql changed/);
  });

  it('makes a retried batch change neither the raw table nor the views', async () => {
    const lines = Array.from({ length: 100 }, (_, i) =>
      JSON.stringify({
        event_id: `d${i}`,
        user_id: `u${i % 3}`,
        feature_id: 'f',
        product_version: '1',
        event_type: 't',
        timestamp: `2024-0${(i % 9) + 1}-01 00:00:00`,
        session_id: `s${i % 4}`,
        metadata: '',
      }),
    );
    await insertBatch(storage.store, { events: lines, quarantine: [] }, 'batch-1');
    await insertBatch(storage.store, { events: lines, quarantine: [] }, 'batch-1');
    expect(await scalar("SELECT count() FROM feature_events WHERE startsWith(event_id, 'd')")).toBe(100);
    expect(await scalar("SELECT sum(events) FROM feature_usage_hourly WHERE feature_id = 'f'")).toBe(100);
    expect(await scalar("SELECT sum(events) FROM feature_usage_by_user WHERE feature_id = 'f'")).toBe(100);
    await insertBatch(storage.store, { events: lines, quarantine: [] }, 'batch-2');
    expect(await scalar("SELECT count() FROM feature_events WHERE startsWith(event_id, 'd')")).toBe(200);
  });

  it('005 rebuilds the rollups from the events already stored (upgrade path, re-runnable)', async () => {
    const rollups = async () => [
      await scalar("SELECT sum(events) FROM feature_usage_hourly WHERE feature_id = 'f'"),
      await scalar("SELECT uniqExactMerge(users) FROM feature_usage_hourly WHERE feature_id = 'f'"),
      await scalar("SELECT sum(events) FROM feature_usage_by_user WHERE feature_id = 'f'"),
      await scalar("SELECT uniqExactMerge(sessions) FROM feature_usage_by_user WHERE feature_id = 'f'"),
    ];
    const before = await rollups();
    expect(before).toEqual([200, 3, 200, 4]);
    const file = readMigrations(dir).find((m) => m.name.startsWith('005_'));
    for (const statement of file?.statements ?? []) await storage.admin.command({ query: statement });
    expect(await rollups()).toEqual(before);
  });
});
