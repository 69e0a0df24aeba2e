import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * How far the spool is safely in ClickHouse. `inflight` is written before each insert:
 * after a crash the same byte range is inserted again with the same deduplication
 * token, so ClickHouse drops it if the first attempt had in fact committed.
 */
export interface Checkpoint {
  segment: number;
  offset: number;
  /**
   * `skip`: indexes (in the batch's event rows) the dedup window dropped on the first
   * attempt. A replay must send exactly the same rows: materialized views deduplicate by
   * token and content, so a replay with other rows would count them twice in the rollups.
   */
  inflight?: { segment: number; start: number; end: number; skip?: number[] };
}

const FILE = 'checkpoint.json';

export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  try {
    return JSON.parse(await readFile(join(dir, FILE), 'utf8')) as Checkpoint;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { segment: 1, offset: 0 };
    throw err;
  }
}

/** Atomic replace: write a temporary file, fsync it, rename over the old one, fsync the folder. */
export async function writeCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  const tmp = join(dir, `${FILE}.tmp`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(JSON.stringify(checkpoint));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, join(dir, FILE));
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
