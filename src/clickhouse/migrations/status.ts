import type { Migration } from '../migrate.js';
import type { Reader } from '../reader.js';
import { META, metaSettings } from './meta-tables.js';
import type { SchemaProfile } from './profile.js';

export interface SchemaStatus {
  applied: string[];
  pending: string[];
  /** Files applied with other contents than this code's: never silently accepted. */
  changed: Array<{ name: string; recorded: string; current: string }>;
  /** Applied files this code does not have (a newer version migrated): tolerated, reported. */
  unknown: string[];
  /** The runner's lock and lease tables exist (a store migrated before they did lacks them). */
  runnerTables: boolean;
}

/** Reads what is applied without creating anything (roles may run with no DDL rights). */
export async function readSchemaStatus(
  client: Reader,
  files: Migration[],
  profile: SchemaProfile,
): Promise<SchemaStatus> {
  const exists = await client.query({
    query: 'SELECT name FROM system.tables WHERE database = currentDatabase() AND name IN {t:Array(String)}',
    format: 'JSONEachRow',
    query_params: { t: Object.values(META) },
  });
  const present = new Set((await exists.json<{ name: string }>()).map((r) => r.name));
  const done = new Map<string, string>();
  if (present.has(META.migrations)) {
    const rs = await client.query({
      query: `SELECT name, any(checksum) AS checksum FROM ${META.migrations} GROUP BY name${metaSettings(profile, 'select')}`,
      format: 'JSONEachRow',
    });
    for (const r of await rs.json<{ name: string; checksum: string }>()) done.set(r.name, r.checksum);
  }
  const runnerTables = Object.values(META).every((t) => present.has(t));
  const status: SchemaStatus = { applied: [], pending: [], changed: [], unknown: [], runnerTables };
  for (const f of files) {
    const recorded = done.get(f.name);
    if (recorded === undefined) status.pending.push(f.name);
    else if (recorded !== f.checksum) status.changed.push({ name: f.name, recorded, current: f.checksum });
    else status.applied.push(f.name);
  }
  const known = new Set(files.map((f) => f.name));
  status.unknown = [...done.keys()].filter((name) => !known.has(name)).sort();
  return status;
}
