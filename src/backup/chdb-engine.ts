import { mkdirSync } from 'node:fs';

/**
 * chDB takes BACKUP and RESTORE to File(...) only under `backups.allowed_path`, a server
 * setting that cannot be SET: it has to be on the engine's command line when the data
 * directory is opened (checked on chDB 26.7: without it, "The 'backups.allowed_path'
 * configuration parameter is not set"). @clickhouse/client's chDB connection takes no engine
 * arguments, so this opens a bare chDB session with the argument first; the process's engine
 * starts with it, and the storage client opened next at the same path shares that engine.
 * Returns the closer of that session.
 */
export async function openChdbWithBackupPath(chdbDir: string, allowedPath: string): Promise<() => void> {
  mkdirSync(chdbDir, { recursive: true });
  const { Session } = (await import('chdb')) as unknown as {
    Session: new (path: string, opts: { connectionArgs: string[] }) => { close(): void };
  };
  const session = new Session(chdbDir, { connectionArgs: [`--backups.allowed_path=${allowedPath}`] });
  return () => session.close();
}
