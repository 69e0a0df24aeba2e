/**
 * Where the schema lives: one ClickHouse (embedded chDB or one server), or a cluster whose
 * tables are Replicated* behind Distributed tables (CLICKHOUSE_CLUSTER). The migration files
 * are the same for both; cluster-ddl.ts derives the cluster statements from them.
 */
export type SchemaProfile = { kind: 'single' } | { kind: 'cluster'; cluster: string; database: string };

export const SINGLE: SchemaProfile = { kind: 'single' };

export function schemaProfile(config: {
  CLICKHOUSE_CLUSTER?: string;
  CLICKHOUSE_DATABASE: string;
}): SchemaProfile {
  return config.CLICKHOUSE_CLUSTER
    ? { kind: 'cluster', cluster: config.CLICKHOUSE_CLUSTER, database: config.CLICKHOUSE_DATABASE }
    : SINGLE;
}

/** A SQL string literal (identifiers and names here come from configuration, never from requests). */
export const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
