import { quote } from '../clickhouse/migrations/profile.js';

/**
 * Where ClickHouse writes a backup, as the BACKUP/RESTORE statement names it.
 *  - embedded chDB: a local folder, File('<DIR>/clickhouse') (chDB is opened with
 *    backups.allowed_path = DIR, see chdb-engine.ts);
 *  - a server: a backup disk of the server's own configuration, Disk('<disk>', '<name>'):
 *    the folder is on the server's machine, not the CLI's (see docs/operations.md).
 */
export type BackupLocation = { kind: 'file'; path: string } | { kind: 'disk'; disk: string; name: string };

export class BackupLocationError extends Error {
  override name = 'BackupLocationError';
}

// A NUL cuts a C string short; a line break in a path is almost always a pasting mistake.
const UNSAFE = /[\0\r\n]/;

export function checkLocationPart(what: string, value: string): string {
  if (value.trim() === '') throw new BackupLocationError(`${what}: expected a non-empty value`);
  if (UNSAFE.test(value)) throw new BackupLocationError(`${what}: must not contain NUL or line breaks`);
  return value;
}

/** The destination clause of BACKUP … TO / RESTORE … FROM, with every part quoted as a SQL string. */
export function locationSql(loc: BackupLocation): string {
  if (loc.kind === 'file') return `File(${quote(checkLocationPart('backup folder', loc.path))})`;
  return `Disk(${quote(checkLocationPart('--disk', loc.disk))}, ${quote(checkLocationPart('backup name', loc.name))})`;
}

/** `BACKUP DATABASE db [ON CLUSTER c] TO …` or `RESTORE DATABASE db [ON CLUSTER c] FROM …`, run ASYNC. */
export function backupStatement(
  op: 'BACKUP' | 'RESTORE',
  database: string,
  loc: BackupLocation,
  cluster?: string,
): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database))
    throw new BackupLocationError(`database: not a plain name: ${database}`);
  const on = cluster ? ` ON CLUSTER ${quote(cluster)}` : '';
  return `${op} DATABASE ${database}${on} ${op === 'BACKUP' ? 'TO' : 'FROM'} ${locationSql(loc)} ASYNC`;
}
