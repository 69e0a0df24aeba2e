import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedStorage } from '../../test/helpers/storage.js';
import type { StorageClient } from './client.js';
import { classifyInsertError } from './errors.js';
import { migrate } from './migrate.js';

let storage: StorageClient;

beforeAll(async () => {
  storage = await embeddedStorage('store-');
  await migrate(storage.admin, fileURLToPath(new URL('../../clickhouse', import.meta.url)));
});
afterAll(async () => storage?.close());

let n = 0;
const line = (user: string) =>
  JSON.stringify({
    event_id: `e${++n}`,
    user_id: user,
    feature_id: 'search',
    product_version: '1.0',
    event_type: 'click',
    timestamp: '2025-01-01 10:00:00',
    session_id: 's1',
    metadata: '',
  });

const count = async (sql: string) => Number((await storage.store.query<{ c: string }>(sql))[0]?.c);
const stored = (user: string) => count(`SELECT count() AS c FROM feature_events WHERE user_id = '${user}'`);
const rolledUp = (user: string) =>
  count(`SELECT sum(events) AS c FROM feature_usage_by_user WHERE user_id = '${user}'`);

describe('the chDB store', () => {
  it('stores a block once per token, in the table and in the rollups, whatever the token spells', async () => {
    let user = 0;
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 40 }), async (suffix) => {
        const u = `u_token_${++user}`;
        const lines = [line(u), line(u)];
        const token = `t${user}${suffix}`;
        await storage.store.insert('feature_events', lines, token);
        await storage.store.insert('feature_events', lines, token); // a retry after a lost reply
        expect(await stored(u)).toBe(2);
        expect(await rolledUp(u)).toBe(2);
      }),
      { numRuns: 25 },
    );
  });

  it('refuses an unparsable block as a data error, and the session answers the next query cleanly', async () => {
    const err = await storage.store
      .insert('feature_events', [line('u_bad'), '{"event_id": "x", "timestamp": "not a time"}'], 'bad-1')
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeDefined();
    expect(classifyInsertError(err)).toBe('data');
    expect(await count('SELECT 41 + 1 AS c')).toBe(42);
    expect(await stored('u_bad')).toBe(0);
  });

  it('leaves no insert setting behind on the session', async () => {
    await storage.store.insert('feature_events', [line('u_sticky')], 'sticky-token');
    const [row] = await storage.store.query<{ value: string }>(
      "SELECT value FROM system.settings WHERE name = 'insert_deduplication_token'",
    );
    expect(row?.value).toBe('');
  });
});
