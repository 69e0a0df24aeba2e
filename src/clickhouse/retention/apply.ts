import { defaultHolder } from '../migrate.js';
import { clusterStatement } from '../migrations/cluster-ddl.js';
import { acquireLock, type LockOptions } from '../migrations/lock.js';
import type { SchemaProfile } from '../migrations/profile.js';
import type { Admin } from '../reader.js';
import { currentTtl, type TableTtl, ttlStatement } from './ttl.js';

export interface ApplyRetentionOptions {
  holder?: string;
  lock?: LockOptions;
}

/** The table that holds the rows: `<name>_local` behind a Distributed table on a cluster. */
const storedName = (profile: SchemaProfile, table: string) =>
  profile.kind === 'cluster' ? `${table}_local` : table;

/** The statements still needed, in the profile's form; tables that do not exist (yet) are skipped. */
async function plan(client: Admin, profile: SchemaProfile, targets: TableTtl[]): Promise<string[]> {
  const names = targets.map((t) => storedName(profile, t.table));
  const rs = await client.query({
    query:
      'SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() AND name IN {names:Array(String)}',
    query_params: { names },
    format: 'JSONEachRow',
  });
  const engines = new Map(
    (await rs.json<{ name: string; engine_full: string }>()).map((r) => [r.name, r.engine_full]),
  );
  const out: string[] = [];
  for (const t of targets) {
    const engine = engines.get(storedName(profile, t.table));
    if (engine === undefined) continue;
    const statement = ttlStatement(t, currentTtl(engine));
    if (!statement) continue;
    // On a cluster: ON CLUSTER, on the local tables (the Distributed ones hold no rows).
    out.push(
      ...(profile.kind === 'cluster'
        ? clusterStatement(statement, profile, new Map([[t.table, { shardingKey: 'rand()' }]]))
        : [statement]),
    );
  }
  return out;
}

/**
 * Brings each table's TTL to the policy, idempotently: nothing runs (and no lock is taken)
 * when system.tables already shows the wanted TTLs. Otherwise under the migration lock, like
 * the migrations, so two starting processes do not alter the same table at once; the plan is
 * made again once the lock is held (the other may have done it). Returns what ran.
 *
 * MODIFY TTL also materializes the TTL on the stored parts (a background mutation): with
 * ttl_only_drop_parts (migration 010) expired parts are dropped whole, not rewritten.
 */
export async function applyRetention(
  client: Admin,
  profile: SchemaProfile,
  targets: TableTtl[],
  options: ApplyRetentionOptions = {},
): Promise<string[]> {
  if ((await plan(client, profile, targets)).length === 0) return [];
  const lock = await acquireLock(client, profile, options.holder ?? defaultHolder(), options.lock);
  try {
    const statements = await plan(client, profile, targets);
    for (const statement of statements) {
      await lock.assertHeld();
      await client.command({ query: statement });
    }
    return statements;
  } finally {
    await lock.release();
  }
}
