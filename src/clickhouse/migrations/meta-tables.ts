import type { Admin } from '../reader.js';
import { quote, type SchemaProfile } from './profile.js';

/**
 * The runner's own tables. They exist before any migration file runs, so they are created
 * here, not in clickhouse/*.sql. On a cluster every node is a replica of one shared copy
 * (a fixed Keeper path without {shard}): the lock and the record must be the same table
 * wherever a runner or a role connects.
 */
export const META = {
  /** One row per applied file (name, checksum); what "is the schema current?" reads. */
  migrations: 'schema_migrations',
  /** Append-only: one row per application, with who applied it under which lock epoch. */
  log: 'schema_migrations_log',
  /** One row per lock epoch; the insert deduplication token makes each epoch claimable once. */
  lock: 'schema_lock',
  /** Heartbeats and the release of each epoch. */
  beats: 'schema_lock_beats',
  /** Leases of the processes that insert rows (consumers, ROLE=all). */
  writers: 'schema_writers',
} as const;

// How many claims ClickHouse remembers per lock table. One block per epoch is written there,
// so this is how many lock acquisitions back a late duplicate claim is still caught.
const LOCK_DEDUP_WINDOW = 100_000;

interface MetaTable {
  name: string;
  columns: string;
  engine: 'MergeTree' | 'ReplacingMergeTree';
  orderBy: string;
  ttl?: string;
  dedup?: boolean;
}

const TABLES: MetaTable[] = [
  {
    name: META.migrations,
    columns: "name String, checksum String, applied_at DateTime('UTC') DEFAULT now()",
    engine: 'ReplacingMergeTree',
    orderBy: 'name',
  },
  {
    name: META.log,
    columns:
      "name String, checksum String, holder String, epoch UInt64, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)",
    engine: 'MergeTree',
    orderBy: '(name, applied_at)',
  },
  {
    name: META.lock,
    columns: "epoch UInt64, holder String, claimed_at DateTime64(3, 'UTC') DEFAULT now64(3)",
    engine: 'MergeTree',
    orderBy: 'epoch',
    dedup: true,
  },
  {
    name: META.beats,
    columns:
      "epoch UInt64, holder String, state Enum8('held' = 1, 'released' = 2), at DateTime64(3, 'UTC') DEFAULT now64(3)",
    engine: 'MergeTree',
    orderBy: '(epoch, at)',
    ttl: 'toDateTime(at) + INTERVAL 30 DAY',
  },
  {
    name: META.writers,
    columns:
      "writer String, host String, role String, state Enum8('waiting' = 1, 'writing' = 2, 'stopped' = 3), at DateTime64(3, 'UTC') DEFAULT now64(3)",
    engine: 'MergeTree',
    orderBy: '(writer, at)',
    ttl: 'toDateTime(at) + INTERVAL 1 DAY',
  },
];

export function metaTableDdl(profile: SchemaProfile): string[] {
  return TABLES.map((t) => {
    const onCluster = profile.kind === 'cluster' ? ` ON CLUSTER ${quote(profile.cluster)}` : '';
    const engine =
      profile.kind === 'cluster'
        ? `Replicated${t.engine}(${quote(`/clickhouse/feature_events/meta/${profile.database}/${t.name}`)}, '{shard}-{replica}')`
        : t.engine;
    const settings: string[] = [];
    if (t.dedup)
      settings.push(
        profile.kind === 'cluster'
          ? `replicated_deduplication_window = ${LOCK_DEDUP_WINDOW}, replicated_deduplication_window_seconds = 31536000`
          : `non_replicated_deduplication_window = ${LOCK_DEDUP_WINDOW}`,
      );
    return [
      `CREATE TABLE IF NOT EXISTS ${t.name}${onCluster} (${t.columns})`,
      `ENGINE = ${engine} ORDER BY ${t.orderBy}`,
      t.ttl ? `TTL ${t.ttl}` : '',
      settings.length ? `SETTINGS ${settings.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
  });
}

export async function ensureMetaTables(client: Admin, profile: SchemaProfile): Promise<void> {
  for (const query of metaTableDdl(profile)) await client.command({ query });
}

/**
 * Settings for the runner's reads and writes of these tables. On a cluster, a claim must be
 * on a majority of replicas before it counts and a read must see every such write
 * (insert_quorum + select_sequential_consistency); one node needs neither.
 */
export function metaSettings(profile: SchemaProfile, kind: 'insert' | 'select'): string {
  if (profile.kind !== 'cluster') return '';
  return kind === 'insert'
    ? " SETTINGS insert_quorum = 'auto', insert_quorum_parallel = 0"
    : ' SETTINGS select_sequential_consistency = 1';
}
