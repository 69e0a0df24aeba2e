import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { StorageClient } from '../clickhouse/index.js';
import type { Config } from '../config/index.js';
import { createPipeline } from '../loader/pipeline.js';
import { readCheckpoint } from '../loader/spool-checkpoint.js';
import type { Log } from '../log/index.js';
import { loadProject, projectDirOf } from '../project/index.js';
import { StoreHealth } from '../queue/health.js';

/**
 * Embedded mode: rows the service acknowledged (202) but had not stored when it stopped wait
 * in DATA_DIR/spool. A backup of the tables alone would miss them, and a copy of the spool
 * beside the tables could not be replayed safely into a restored store (the tables' memory
 * of which spool batches they hold is not part of a BACKUP). So the backup first stores them,
 * exactly as the service's next start would (same loader, same tokens), for at most
 * SHUTDOWN_DRAIN_MS. Resolves to the rows still waiting (0 when drained).
 */
export async function drainSpool(config: Config, storage: StorageClient, log: Log): Promise<number> {
  const dir = join(config.DATA_DIR, 'spool');
  if (config.KAFKA_BROKERS || !(await spoolHasRows(dir))) return 0;
  // The project's datasources, as the service gives them: their spooled rows are theirs, not
  // rows for an unknown datasource (which the loader would quarantine).
  const datasources = loadProject(projectDirOf(config)).datasources.map((d) => d.name);
  const pipeline = await createPipeline({
    config,
    store: storage.store,
    log,
    health: new StoreHealth(),
    datasources,
  });
  await pipeline.close(config.SHUTDOWN_DRAIN_MS);
  return Number(pipeline.stats().pending_rows ?? 0);
}

/**
 * Whether the spool holds bytes past its checkpoint (or an insert in flight). Opening the
 * loader to find out costs a load of the dedup window, seconds on a large store.
 */
export async function spoolHasRows(dir: string): Promise<boolean> {
  if (!existsSync(dir)) return false;
  const segments = readdirSync(dir)
    .filter((f) => f.endsWith('.spool'))
    .map((f) => ({ n: Number.parseInt(f, 10), size: statSync(join(dir, f)).size }));
  const checkpoint = await readCheckpoint(dir);
  if (checkpoint.inflight) return true;
  return segments.some(
    (s) => s.n > checkpoint.segment || (s.n === checkpoint.segment && s.size > checkpoint.offset),
  );
}
