import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedStorage } from '../../../test/helpers/storage.js';
import type { StorageClient } from '../client.js';
import { acquireLock, LockLostError, LockTimeoutError, readLock } from './lock.js';
import { ensureMetaTables } from './meta-tables.js';
import { SINGLE } from './profile.js';

// The lock's protocol on one store. chDB runs one query at a time, so these contenders
// interleave query by query within one process; several processes contending through one
// store over HTTP are test/migrate-race.test.ts.
let storage: StorageClient;
beforeAll(async () => {
  storage = await embeddedStorage('lock-');
  await ensureMetaTables(storage.admin, SINGLE);
});
afterAll(async () => storage?.close());

describe('migration lock (held in ClickHouse)', () => {
  it('lets one contender in at a time, and every contender in eventually', async () => {
    let inside = 0;
    let most = 0;
    const order: string[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const lock = await acquireLock(storage.admin, SINGLE, `h${i}`, { pollMs: 5, ttlMs: 30_000 });
        inside++;
        most = Math.max(most, inside);
        order.push(`h${i}`);
        await lock.assertHeld();
        await new Promise((r) => setTimeout(r, 5));
        inside--;
        await lock.release();
      }),
    );
    expect(most).toBe(1);
    expect([...order].sort()).toEqual(['h0', 'h1', 'h2', 'h3', 'h4', 'h5']);
    // One epoch per acquisition, each claimed by exactly one holder.
    const rs = await storage.admin.query({
      query: 'SELECT epoch, count() AS n FROM schema_lock GROUP BY epoch ORDER BY epoch',
      format: 'JSONEachRow',
    });
    const epochs = await rs.json<{ epoch: string; n: string }>();
    expect(epochs.map((e) => Number(e.n))).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('a second claim of the same epoch is dropped by insert deduplication', async () => {
    const before = await readLock(storage.admin, SINGLE);
    const next = (before?.epoch ?? 0) + 1;
    for (const h of ['x', 'y'])
      await storage.admin.command({
        query: `INSERT INTO schema_lock (epoch, holder) SETTINGS insert_deduplicate = 1, insert_deduplication_token = 'schema-lock-epoch-${next}' VALUES (${next}, '${h}')`,
      });
    expect(await readLock(storage.admin, SINGLE)).toMatchObject({ epoch: next, holder: 'x' });
    // Release x's epoch so the next tests start from a free lock.
    await storage.admin.command({
      query: `INSERT INTO schema_lock_beats (epoch, holder, state) VALUES (${next}, 'x', 'released')`,
    });
  });

  it('a waiter gives up after waitMs, naming the holder', async () => {
    const lock = await acquireLock(storage.admin, SINGLE, 'slow-holder', { ttlMs: 60_000 });
    await expect(acquireLock(storage.admin, SINGLE, 'impatient', { waitMs: 50, pollMs: 10 })).rejects.toThrow(
      LockTimeoutError,
    );
    await expect(acquireLock(storage.admin, SINGLE, 'impatient', { waitMs: 50, pollMs: 10 })).rejects.toThrow(
      /held by slow-holder/,
    );
    await lock.release();
  });

  it('a holder that stopped heartbeating is taken over, and finds out before its next statement', async () => {
    const stalled = await acquireLock(storage.admin, SINGLE, 'stalled', {
      ttlMs: 150,
      heartbeatMs: 3_600_000,
    });
    const waits: string[] = [];
    const next = await acquireLock(storage.admin, SINGLE, 'successor', {
      ttlMs: 150,
      pollMs: 20,
      onWait: (s) => waits.push(s.holder),
    });
    expect(waits).toContain('stalled');
    expect(next.epoch).toBe(stalled.epoch + 1);
    await expect(stalled.assertHeld()).rejects.toThrow(LockLostError);
    await next.assertHeld();
    await next.release();
    await stalled.release();
  });

  it('a live holder keeps the lock past its ttl by heartbeating', async () => {
    const live = await acquireLock(storage.admin, SINGLE, 'live', { ttlMs: 400, heartbeatMs: 40 });
    await expect(
      acquireLock(storage.admin, SINGLE, 'other', { ttlMs: 400, waitMs: 1_200, pollMs: 50 }),
    ).rejects.toThrow(LockTimeoutError);
    await live.assertHeld();
    await live.release();
  });
});
