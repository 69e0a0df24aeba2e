import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError } from '../cli/errors.js';
import { assertStoreFree, chdbDirOf, openStorage } from '../cli/open-storage.js';
import type { Config } from '../config/index.js';
import { runDatabaseOperation } from './await-operation.js';
import { openChdbWithBackupPath } from './chdb-engine.js';
import { inventory, orphanedViews } from './inventory.js';
import { countMismatches, readManifest } from './manifest.js';
import { restoreStateFiles } from './state-files.js';

export interface RestoreOptions {
  /** Embedded: a folder written by `backup`. Server: the backup's name on `disk`. */
  from: string;
  disk: string;
}

export interface RestoreSummary {
  tables: number;
  rows: number;
  files: string[];
}

/**
 * `feature-events restore`: RESTORE DATABASE into a store that holds none of the service's
 * tables yet (an empty DATA_DIR, or a server database before its first migration), so nothing
 * is merged with or written over. The materialized views come back with their target tables,
 * and RESTORE attaches the stored parts without running the views, so the rollups hold what
 * they held (not their rows plus the raw rows' again). Then it checks: every view's target
 * exists, and (embedded) every table has the row count the manifest recorded.
 */
export async function restore(config: Config, opts: RestoreOptions): Promise<RestoreSummary> {
  const embedded = !config.CLICKHOUSE_URL;
  const dir = resolve(opts.from);
  const manifest = embedded ? readManifestOrFail(dir) : undefined;
  if (embedded) {
    assertStoreFree(config);
    const spool = join(config.DATA_DIR, 'spool');
    if (existsSync(spool) && readdirSync(spool).some((f) => f.endsWith('.spool')))
      throw new CliError(
        `DATA_DIR=${config.DATA_DIR} has a spool of its own (rows of another store); restore into an empty DATA_DIR`,
      );
  }
  const closeEngine = embedded ? await openChdbWithBackupPath(chdbDirOf(config), dir) : undefined;
  const storage = await openStorage(config);
  try {
    const existing = await inventory(storage.admin);
    if (existing.length > 0)
      throw new CliError(
        `${embedded ? `DATA_DIR=${config.DATA_DIR}` : `database ${config.CLICKHOUSE_DATABASE}`} already has tables (${existing
          .slice(0, 4)
          .map((t) => t.name)
          .join(
            ', ',
          )}${existing.length > 4 ? ', …' : ''}); restore needs an empty one: move it aside${embedded ? '' : ' or drop the database'} first`,
      );
    await runDatabaseOperation('RESTORE', config, storage.admin, embedded ? { dir } : opts.from, opts.disk);
    const orphans = await orphanedViews(storage.admin);
    if (orphans.length > 0)
      throw new CliError(`restored materialized views without their target table: ${orphans.join(', ')}`);
    const tables = await inventory(storage.admin);
    if (manifest) {
      const wrong = countMismatches(manifest.tables, tables);
      if (wrong.length > 0)
        throw new CliError(`the restored tables differ from the backup: ${wrong.join('; ')}`);
    }
    const files = manifest ? restoreStateFiles(join(dir, 'files'), manifest.files, config.DATA_DIR) : [];
    return { tables: tables.length, rows: tables.reduce((n, t) => n + (t.rows ?? 0), 0), files };
  } finally {
    await storage.close();
    closeEngine?.();
  }
}

function readManifestOrFail(dir: string) {
  try {
    return readManifest(dir);
  } catch (err) {
    throw new CliError(`--from: ${(err as Error).message}`);
  }
}
