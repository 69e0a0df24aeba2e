/**
 * Bytes on disk per event: the raw table, its time-ordered copy (013) and the rollups, and per
 * column, read from ClickHouse's own system tables after the last stage's merges had a moment
 * to run.
 */
import { round2, type Service } from './lib.js';

export interface StorageRun {
  bytes_per_event: number;
  tables: Record<string, { bytes: number; parts: number; per_event: number }>;
  raw_columns_bytes_per_event: Record<string, number>;
  rollup_columns_bytes_per_event: Record<string, number>;
}

export async function measureStorage(svc: Service, events: number): Promise<StorageRun> {
  const rows = await svc.sql<{ table: string; bytes: string; parts: string }>(
    "SELECT table, sum(bytes_on_disk) AS bytes, count() AS parts FROM system.parts WHERE active AND database = currentDatabase() AND table IN ('feature_events', 'feature_events_by_time', 'feature_usage_hourly', 'feature_usage_by_user') GROUP BY table",
  );
  const by: StorageRun['tables'] = {};
  let total = 0;
  for (const r of rows) {
    by[r.table] = {
      bytes: Number(r.bytes),
      parts: Number(r.parts),
      per_event: round2(Number(r.bytes) / events),
    };
    total += Number(r.bytes);
  }
  const cols = await svc.sql<{ name: string; bytes: string }>(
    "SELECT name, sum(data_compressed_bytes) AS bytes FROM system.columns WHERE database = currentDatabase() AND table = 'feature_events' GROUP BY name ORDER BY bytes DESC",
  );
  const hourlyCols = await svc.sql<{ name: string; bytes: string }>(
    "SELECT name, sum(data_compressed_bytes) AS bytes FROM system.columns WHERE database = currentDatabase() AND table IN ('feature_usage_hourly', 'feature_usage_by_user') GROUP BY name ORDER BY bytes DESC",
  );
  return {
    bytes_per_event: round2(total / events),
    tables: by,
    raw_columns_bytes_per_event: Object.fromEntries(
      cols.map((c) => [c.name, round2(Number(c.bytes) / events)]),
    ),
    rollup_columns_bytes_per_event: Object.fromEntries(
      hourlyCols.map((c) => [c.name, round2(Number(c.bytes) / events)]),
    ),
  };
}
