import { sleep } from '../../lib/retry.js';
import type { Admin } from '../reader.js';
import { META, metaSettings } from './meta-tables.js';
import { quote, type SchemaProfile } from './profile.js';

/**
 * A lock held in ClickHouse itself, so it holds across processes and machines that reach the
 * same store. ClickHouse has no compare-and-set, but insert deduplication is one: a block
 * inserted with insert_deduplication_token T is stored once, however many clients insert it
 * (on one node the table's dedup log; on a Replicated table the block id is created in Keeper,
 * which is atomic). The lock is a sequence of epochs; "epoch N is mine" is a claim row for N
 * inserted with the token for N, read back. Whoever's row is stored owns epoch N.
 *
 * A holder heartbeats; an epoch whose holder released it, or stopped beating for ttlMs
 * (judged by ClickHouse's clock, not this machine's), is over, and the next epoch may be
 * claimed. A holder that was paused past its ttl finds a newer epoch (assertHeld) and stops.
 */

export interface LockState {
  epoch: number;
  holder: string;
  /** Milliseconds since the holder's claim or last heartbeat, by ClickHouse's clock. */
  idleMs: number;
  released: boolean;
}

export interface LockOptions {
  ttlMs?: number;
  heartbeatMs?: number;
  /** Give up after this long (LockTimeoutError). */
  waitMs?: number;
  pollMs?: number;
  /** Called while another holder has the lock (for progress output). */
  onWait?: (state: LockState) => void;
}

export class LockTimeoutError extends Error {
  override name = 'LockTimeoutError';
}
export class LockLostError extends Error {
  override name = 'LockLostError';
}

export interface HeldLock {
  epoch: number;
  holder: string;
  /** Throws LockLostError if a newer epoch exists (this holder was judged dead). */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

async function rows<T>(client: Admin, query: string, params: Record<string, unknown> = {}) {
  const rs = await client.query({ query, format: 'JSONEachRow', query_params: params });
  return rs.json<T>();
}

/** The newest epoch and its state, or undefined when the lock was never taken. */
export async function readLock(client: Admin, profile: SchemaProfile): Promise<LockState | undefined> {
  const [row] = await rows<{
    epoch: string;
    holder: string;
    claimed: string;
    idle_ms: string;
    released: number;
  }>(
    client,
    `SELECT l.epoch AS epoch, l.holder AS holder,
            dateDiff('millisecond', greatest(l.claimed, b.last), now64(3)) AS idle_ms,
            b.released AS released
     FROM (SELECT epoch, argMin(holder, claimed_at) AS holder, min(claimed_at) AS claimed
           FROM ${META.lock} GROUP BY epoch ORDER BY epoch DESC LIMIT 1) AS l
     LEFT JOIN (SELECT epoch, max(at) AS last, max(state = 'released') AS released
                FROM ${META.beats} GROUP BY epoch) AS b ON b.epoch = l.epoch
     ${metaSettings(profile, 'select').trim()}`,
  );
  if (!row) return undefined;
  return {
    epoch: Number(row.epoch),
    holder: row.holder,
    idleMs: Number(row.idle_ms),
    released: Number(row.released) === 1,
  };
}

async function beat(client: Admin, profile: SchemaProfile, epoch: number, holder: string, state: string) {
  await client.command({
    query: `INSERT INTO ${META.beats} (epoch, holder, state)${metaSettings(profile, 'insert')} VALUES (${epoch}, ${quote(holder)}, ${quote(state)})`,
  });
}

/** Claims epoch N: true if this holder's row is the one stored for N. */
export async function claimEpoch(client: Admin, profile: SchemaProfile, epoch: number, holder: string) {
  const settings = metaSettings(profile, 'insert');
  await client.command({
    query: `INSERT INTO ${META.lock} (epoch, holder) SETTINGS insert_deduplicate = 1, insert_deduplication_token = ${quote(`schema-lock-epoch-${epoch}`)}${settings.replace(' SETTINGS', ',')} VALUES (${epoch}, ${quote(holder)})`,
  });
  // argMin: should a claim arrive after the dedup window forgot the epoch, the first still wins.
  const [row] = await rows<{ holder: string }>(
    client,
    `SELECT argMin(holder, claimed_at) AS holder FROM ${META.lock} WHERE epoch = {epoch:UInt64}${metaSettings(profile, 'select')}`,
    { epoch },
  );
  return row?.holder === holder;
}

export function isFree(state: LockState | undefined, ttlMs: number): boolean {
  return !state || state.released || state.idleMs > ttlMs;
}

export async function acquireLock(
  client: Admin,
  profile: SchemaProfile,
  holder: string,
  options: LockOptions = {},
): Promise<HeldLock> {
  const ttlMs = options.ttlMs ?? 60_000;
  const heartbeatMs = options.heartbeatMs ?? Math.max(50, Math.floor(ttlMs / 4));
  const pollMs = options.pollMs ?? 500;
  const deadline = Date.now() + (options.waitMs ?? 15 * 60_000);
  for (;;) {
    const state = await readLock(client, profile);
    if (isFree(state, ttlMs)) {
      const epoch = (state?.epoch ?? 0) + 1;
      if (await claimEpoch(client, profile, epoch, holder)) {
        await beat(client, profile, epoch, holder, 'held');
        return heldLock(client, profile, epoch, holder, heartbeatMs);
      }
      continue; // someone else took epoch N: read it and wait for it
    }
    if (Date.now() > deadline) {
      throw new LockTimeoutError(
        `the migration lock is held by ${state?.holder} (epoch ${state?.epoch}, last heartbeat ${state?.idleMs} ms ago); gave up waiting`,
      );
    }
    if (state) options.onWait?.(state);
    await sleep(pollMs);
  }
}

function heldLock(
  client: Admin,
  profile: SchemaProfile,
  epoch: number,
  holder: string,
  heartbeatMs: number,
): HeldLock {
  let beating: Promise<void> = Promise.resolve();
  // A missed heartbeat is not fatal by itself: assertHeld decides, before each statement.
  const timer = setInterval(() => {
    beating = beat(client, profile, epoch, holder, 'held').catch(() => {});
  }, heartbeatMs);
  timer.unref();
  return {
    epoch,
    holder,
    async assertHeld() {
      const state = await readLock(client, profile);
      if (state?.epoch !== epoch || state.holder !== holder) {
        throw new LockLostError(
          `lost the migration lock (epoch ${epoch}): ${state?.holder} took epoch ${state?.epoch} after this process stopped heartbeating`,
        );
      }
    },
    async release() {
      clearInterval(timer);
      await beating;
      await beat(client, profile, epoch, holder, 'released');
    },
  };
}
