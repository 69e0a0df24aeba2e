import type { Config } from '../config/index.js';
import { chdbStorage } from './chdb-adapter.js';
import { serverStorage } from './server-adapter.js';
import type { StorageClient } from './storage.js';

export type { Admin, Reader, Session } from './reader.js';
export type { StorageClient } from './storage.js';

/**
 * The storage seam: a ClickHouse server when CLICKHOUSE_URL is set, otherwise embedded
 * chDB on disk under DATA_DIR/clickhouse. Nothing above this function knows which one it got.
 */
export async function createStorageClient(
  config: Pick<
    Config,
    'CLICKHOUSE_URL' | 'CLICKHOUSE_USER' | 'CLICKHOUSE_PASSWORD' | 'CLICKHOUSE_DATABASE' | 'DATA_DIR'
  >,
): Promise<StorageClient> {
  const url = config.CLICKHOUSE_URL;
  return url ? serverStorage({ ...config, CLICKHOUSE_URL: url }) : chdbStorage(config);
}
