import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The DATA_DIR files besides ClickHouse that a restored service needs to answer the same
 * clients: the generated admin token and the tokens made through /v0/tokens or TOKEN lines.
 * (The spool is not copied: a backup drains it into ClickHouse first, see backup.ts.)
 */
export const STATE_FILES = ['admin-token', 'tokens.json', 'project-tokens.json'] as const;

/** Copies the state files present in dataDir to into/; returns the names copied. */
export function saveStateFiles(dataDir: string, into: string): string[] {
  mkdirSync(into, { recursive: true });
  const copied: string[] = [];
  for (const f of STATE_FILES) {
    if (!existsSync(join(dataDir, f))) continue;
    copyFileSync(join(dataDir, f), join(into, f));
    copied.push(f);
  }
  return copied;
}

/** Puts saved state files back into dataDir, never over a file already there; returns the names restored. */
export function restoreStateFiles(from: string, names: readonly string[], dataDir: string): string[] {
  mkdirSync(dataDir, { recursive: true });
  const restored: string[] = [];
  for (const f of names) {
    if (!(STATE_FILES as readonly string[]).includes(f) || existsSync(join(dataDir, f))) continue;
    copyFileSync(join(from, f), join(dataDir, f));
    restored.push(f);
  }
  return restored;
}
