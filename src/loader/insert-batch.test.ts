import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedStorage } from '../../test/helpers/storage.js';
import { classifyInsertError } from '../clickhouse/errors.js';
import { migrate, type StorageClient } from '../clickhouse/index.js';
import { BatchWriter } from './batch-writer.js';
import { insertBatchIsolating } from './insert-batch.js';
import { eventIdOf, RecentIds } from './recent-ids.js';

const MIGRATIONS = fileURLToPath(new URL('../../clickhouse', import.meta.url));
let storage: StorageClient;

beforeAll(async () => {
  storage = await embeddedStorage('fe-insert-');
  await migrate(storage.admin, MIGRATIONS);
});
afterAll(async () => {
  await storage?.close();
});

const line = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    event_id: id,
    user_id: 'u1',
    feature_id: 'f',
    product_version: '1.0',
    event_type: 'feature_used',
    timestamp: '2024-01-01 00:00:00',
    session_id: 's1',
    metadata: '{}',
    ...extra,
  });

async function q<T>(query: string): Promise<T[]> {
  const rs = await storage.admin.query({ query, format: 'JSONEachRow' });
  return rs.json<T>();
}

describe('insertBatchIsolating', () => {
  it('moves rows ClickHouse rejects to quarantine with the reason and stores the rest, once', async () => {
    const events = Array.from({ length: 40 }, (_, i) => line(`pz_${i}`));
    events[7] = 'not json at all';
    events[23] = line('pz_bad_ts', { timestamp: 'garbage' });
    const report = await insertBatchIsolating(storage.store, { events, quarantine: ['{"raw":'] }, 'pz:1');
    expect(report.poisoned).toBe(3);
    // a replay (crash after the insert, before the checkpoint) stores nothing twice
    await insertBatchIsolating(storage.store, { events, quarantine: ['{"raw":'] }, 'pz:1');
    const [stored] = await q<{ n: string; u: string }>(
      "SELECT count() AS n, uniqExact(event_id) AS u FROM feature_events WHERE startsWith(event_id, 'pz_')",
    );
    expect(Number(stored?.n)).toBe(38);
    expect(Number(stored?.u)).toBe(38);
    const bad = await q<{ raw: string; c__error: string[] }>(
      "SELECT raw, c__error FROM feature_events_quarantine WHERE raw IN ('not json at all', '{\"raw\":') OR event_id = 'pz_bad_ts'",
    );
    expect(bad).toHaveLength(3);
    for (const b of bad) expect(b.c__error[0]).toMatch(/^ClickHouse rejected the row \(CANNOT_PARSE/);
  });

  it('classifies parse errors as data errors and anything else as transient', async () => {
    const err = await insertBatchIsolating(storage.store, { events: [], quarantine: [] }, 'x').then(
      () => undefined,
    );
    expect(err).toBeUndefined();
    expect(classifyInsertError(Object.assign(new Error('x'), { code: '27' }))).toBe('data');
    expect(classifyInsertError(new Error('Code: 41. DB::Exception: Cannot read DateTime'))).toBe('data');
    expect(classifyInsertError(new Error('ECONNREFUSED'))).toBe('transient');
    expect(classifyInsertError(Object.assign(new Error('x'), { code: '252' }))).toBe('transient'); // TOO_MANY_PARTS
  });
});

describe('BatchWriter dedup window', () => {
  it('drops event_ids stored recently or repeated in the batch, and survives a restart via warm()', async () => {
    const w = new BatchWriter(storage.store, { dedupWindow: 1000 });
    const write = (writer: BatchWriter, ids: string[], token: string) => {
      const rows = { events: ids.map((id) => line(id)), quarantine: [] };
      return writer.write(rows, token, writer.select(rows));
    };
    const r1 = await write(w, ['dd_1', 'dd_2', 'dd_1'], 'dd:1');
    expect(r1).toMatchObject({ events: 2, duplicates: 1 });
    const r2 = await write(w, ['dd_2', 'dd_3'], 'dd:2');
    expect(r2).toMatchObject({ events: 1, duplicates: 1 });
    const fresh = new BatchWriter(storage.store, { dedupWindow: 1000 });
    await fresh.warm();
    const r3 = await write(fresh, ['dd_1', 'dd_4'], 'dd:3');
    expect(r3).toMatchObject({ events: 1, duplicates: 1 });
    const [n] = await q<{ n: string }>(
      "SELECT count() AS n FROM feature_events WHERE startsWith(event_id, 'dd_')",
    );
    expect(Number(n?.n)).toBe(4);
  });

  it('keeps a bounded window and reads event_id without a full parse', () => {
    const r = new RecentIds(2);
    r.add('a');
    r.add('b');
    r.add('c');
    expect([r.has('a'), r.has('b'), r.has('c'), r.size]).toEqual([false, true, true, 2]);
    expect(eventIdOf(line('x"y'))).toBe('x"y');
    expect(eventIdOf('{"user_id":"u","event_id":"late"}')).toBe('late');
    expect(eventIdOf('garbage')).toBeUndefined();
  });
});
