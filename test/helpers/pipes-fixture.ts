import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createStorageClient,
  insertJsonLines,
  migrate,
  type StorageClient,
} from '../../src/clickhouse/index.js';
import { loadPipes, type Pipe } from '../../src/pipes/index.js';

export interface PipesFixture {
  storage: StorageClient;
  /** The shipped pipes (pipes/*.pipe), all loaded. */
  pipes: Map<string, Pipe>;
  close(): Promise<void>;
}

/** Embedded chDB in a fresh directory, migrated, holding `lines` (JSONEachRow events). */
export async function openPipesFixture(prefix: string, lines: string[]): Promise<PipesFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const storage = await createStorageClient({
    DATA_DIR: dataDir,
    CLICKHOUSE_DATABASE: 'default',
  } as Parameters<typeof createStorageClient>[0]);
  await migrate(storage.admin, 'clickhouse');
  for (let i = 0; i < lines.length; i += 5_000) {
    await insertJsonLines(storage.admin, 'feature_events', lines.slice(i, i + 5_000), `${prefix}-${i}`);
  }
  const { pipes, errors } = loadPipes('pipes');
  if (errors.length > 0) throw new Error(`pipes did not load: ${JSON.stringify(errors)}`);
  return {
    storage,
    pipes,
    async close() {
      await storage.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
