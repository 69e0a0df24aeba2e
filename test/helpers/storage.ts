import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStorageClient, type Reader, type StorageClient } from '../../src/clickhouse/index.js';

/** Embedded chDB storage on a new temp directory (one per test file: chDB binds one path per process). */
export function embeddedStorage(
  prefix: string,
  dir = mkdtempSync(join(tmpdir(), prefix)),
): Promise<StorageClient> {
  return createStorageClient({
    DATA_DIR: dir,
    CLICKHOUSE_URL: undefined,
    CLICKHOUSE_USER: 'default',
    CLICKHOUSE_PASSWORD: '',
    CLICKHOUSE_DATABASE: 'default',
  });
}

/** Every table and view of the current database with its engine and row count: what a write would change. */
export async function tableSnapshot(client: Reader): Promise<unknown> {
  const result = await client.query({
    query:
      'SELECT name, engine, total_rows FROM system.tables WHERE database = currentDatabase() ORDER BY name',
    format: 'JSONEachRow',
  });
  return result.json();
}
