import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError } from '../cli/errors.js';
import { assertStoreFree, chdbDirOf, openStorage } from '../cli/open-storage.js';
import type { Config } from '../config/index.js';
import type { Log } from '../log/index.js';
import { runDatabaseOperation } from './await-operation.js';
import { openChdbWithBackupPath } from './chdb-engine.js';
import { drainSpool } from './drain-spool.js';
import { inventory } from './inventory.js';
import { writeManifest } from './manifest.js';
import { saveStateFiles } from './state-files.js';

export interface BackupOptions {
  /** Embedded: a local folder (new or empty). Server: the backup's name on `disk`. */
  to: string;
  /** Server only: the server's backup disk (its backups.allowed_disk). */
  disk: string;
}

export interface BackupSummary {
  location: string;
  tables: number;
  rows: number;
  bytes: number;
}

/**
 * `feature-events backup`: BACKUP DATABASE of the service's database (every table and view it
 * owns), plus, in embedded mode, the DATA_DIR token files and a manifest with exact row counts.
 * Embedded mode needs the service stopped (chDB lets one process open the data directory);
 * rows still in the spool are stored first (drain-spool.ts). With CLICKHOUSE_URL the server
 * writes the backup to its own disk while the service keeps running (see docs/operations.md).
 */
export async function backup(config: Config, opts: BackupOptions, log: Log): Promise<BackupSummary> {
  const embedded = !config.CLICKHOUSE_URL;
  const dir = resolve(opts.to);
  if (embedded) {
    if (existsSync(dir) && readdirSync(dir).length > 0)
      throw new CliError(`--to ${opts.to}: the folder is not empty; give a new or empty folder`);
    assertStoreFree(config);
    mkdirSync(dir, { recursive: true });
  }
  const closeEngine = embedded ? await openChdbWithBackupPath(chdbDirOf(config), dir) : undefined;
  const storage = await openStorage(config);
  try {
    if (embedded) {
      const left = await drainSpool(config, storage, log);
      if (left > 0)
        throw new CliError(
          `${left} rows in DATA_DIR/spool could not be stored within SHUTDOWN_DRAIN_MS=${config.SHUTDOWN_DRAIN_MS}; start the service, let /v0/ready show pending_rows 0, stop it and back up again`,
        );
    }
    const tables = await inventory(storage.admin);
    const result = await runDatabaseOperation(
      'BACKUP',
      config,
      storage.admin,
      embedded ? { dir } : opts.to,
      opts.disk,
    );
    const files = embedded ? saveStateFiles(config.DATA_DIR, join(dir, 'files')) : [];
    if (embedded)
      writeManifest(dir, {
        format: 1,
        created_at: new Date().toISOString(),
        source: 'embedded',
        database: config.CLICKHOUSE_DATABASE,
        tables,
        files,
      });
    return {
      location: embedded ? dir : `Disk('${opts.disk}', '${opts.to}') on ${config.CLICKHOUSE_URL}`,
      tables: tables.length,
      rows: tables.reduce((n, t) => n + (t.rows ?? 0), 0),
      bytes: result.bytes,
    };
  } finally {
    await storage.close();
    closeEngine?.();
  }
}
