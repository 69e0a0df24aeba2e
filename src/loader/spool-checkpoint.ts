import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatchIntent } from './batch-intent.js';

/**
 * How far the spool is safely in ClickHouse, in the spool's own file: the spool's encoding
 * of the batch intent (see batch-intent.ts). `inflight` is written before each insert: after
 * a crash the same byte range of the same segment is inserted again with the same rows and
 * token, so ClickHouse drops it if the first attempt had in fact committed.
 */
export interface Checkpoint {
  segment: number;
  offset: number;
  inflight?: BatchIntent & { segment: number };
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
