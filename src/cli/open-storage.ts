import { resolve } from 'node:path';
import { createStorageClient, type StorageClient } from '../clickhouse/index.js';
import { type Config, ConfigError, loadConfig } from '../config/index.js';
import { chdbHolder } from './data-dir-lock.js';
import { CliError } from './errors.js';

/** The service's configuration as a one-shot command reads it (ROLE's split-role checks do not apply). */
export function cliConfig(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig({ ...env, ROLE: 'all' });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message.replace(/\n\s*/g, ' '), 2);
    throw err;
  }
}

/** The embedded store's directory under DATA_DIR (where createStorageClient opens chDB). */
export const chdbDirOf = (config: Pick<Config, 'DATA_DIR'>) => resolve(config.DATA_DIR, 'clickhouse');

/**
 * Refuses, naming the process, when the service (or another command) has the embedded
 * store open: chDB lets one process open a data directory, so the commands that work on
 * storage run with the service stopped in embedded mode (see docs/operations.md).
 */
export function assertStoreFree(config: Config): void {
  if (config.CLICKHOUSE_URL) return;
  const holder = chdbHolder(chdbDirOf(config));
  if (holder)
    throw new CliError(
      `DATA_DIR=${config.DATA_DIR} is open in process ${holder.pid} (since ${holder.since}): embedded chDB lets one process open a data directory; stop the service (SIGTERM) and run this again`,
    );
}

/** Opens the configured store (embedded chDB or CLICKHOUSE_URL) for a one-shot command. */
export async function openStorage(config: Config): Promise<StorageClient> {
  assertStoreFree(config);
  try {
    return await createStorageClient(config);
  } catch (err) {
    throw new CliError(`cannot open storage: ${(err as Error).message}`);
  }
}
