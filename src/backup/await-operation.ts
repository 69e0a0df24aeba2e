import { join } from 'node:path';
import { CliError } from '../cli/errors.js';
import { formatBytes, progressReporter } from '../cli/progress.js';
import type { Reader } from '../clickhouse/reader.js';
import type { Config } from '../config/index.js';
import { backupStatement } from './location.js';

export interface OperationProgress {
  status: string;
  files: number;
  bytes: number;
}

interface BackupRow {
  status: string;
  error: string;
  num_files: string;
  total_size: string;
  files_read: string;
  bytes_read: string;
}

const RUNNING = new Set(['CREATING_BACKUP', 'RESTORING']);

/**
 * Runs a BACKUP or RESTORE … ASYNC and follows it in system.backups until it ends, reporting
 * files and bytes done (ASYNC, because a synchronous BACKUP says nothing until it is over).
 * Resolves to the final row; a *_FAILED status is thrown with ClickHouse's own error text.
 */
export async function awaitBackupOperation(
  client: Reader,
  statement: string,
  onProgress: (p: OperationProgress) => void,
  pollMs = 250,
): Promise<OperationProgress> {
  const started = await client.query({ query: statement, format: 'JSONEachRow' });
  const [op] = await started.json<{ id: string; status: string }>();
  if (!op) throw new Error(`no answer from: ${statement}`);
  for (;;) {
    const rs = await client.query({
      query:
        'SELECT status, error, num_files, total_size, files_read, bytes_read FROM system.backups WHERE id = {id:String}',
      query_params: { id: op.id },
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<BackupRow>();
    if (!row) throw new Error(`${statement.split(' ')[0]} ${op.id} disappeared from system.backups`);
    const restoring = row.status.startsWith('RESTOR');
    const progress = {
      status: row.status,
      // A restore counts what it has read back; a backup what it has collected so far.
      files: Number(restoring ? row.files_read : row.num_files),
      bytes: Number(restoring ? row.bytes_read : row.total_size),
    };
    if (row.status.endsWith('_FAILED')) throw new Error(firstLine(row.error) || row.status);
    if (!RUNNING.has(row.status)) return progress;
    onProgress(progress);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** "1,234 files, 5.6 MiB" for progress lines. */
export const describeProgress = (p: OperationProgress) =>
  `${p.files.toLocaleString('en')} files, ${formatBytes(p.bytes)}`;

// ClickHouse errors carry a stack of context lines; the first one says what went wrong.
const firstLine = (s: string) => s.split('\n')[0]?.trim() ?? '';

/**
 * BACKUP or RESTORE of the configured database with progress on stderr. Embedded: the
 * ClickHouse part of the backup folder (`<dir>/clickhouse`); server: `name` on the server's
 * backup `disk`.
 */
export async function runDatabaseOperation(
  op: 'BACKUP' | 'RESTORE',
  config: Pick<Config, 'CLICKHOUSE_DATABASE' | 'CLICKHOUSE_CLUSTER'>,
  client: Reader,
  where: { dir: string } | string,
  disk: string,
): Promise<OperationProgress> {
  const location =
    typeof where === 'string'
      ? ({ kind: 'disk', disk, name: where } as const)
      : ({ kind: 'file', path: join(where.dir, 'clickhouse') } as const);
  const bar = progressReporter(op.toLowerCase());
  const result = await awaitBackupOperation(
    client,
    backupStatement(op, config.CLICKHOUSE_DATABASE, location, config.CLICKHOUSE_CLUSTER),
    (p) => bar.update(describeProgress(p)),
  ).catch((err: Error) => {
    throw new CliError(`${op} failed: ${err.message}`);
  });
  bar.done(describeProgress(result));
  return result;
}
