import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A secret kept in DATA_DIR/<file>: read when it is there, else generated (prefix + 24
 * random bytes, base64url) and written readable by the owner only, so restarts keep it.
 */
export function keptSecret(
  dataDir: string,
  file: string,
  prefix = '',
): { secret: string; generated: boolean } {
  const path = join(dataDir, file);
  try {
    const saved = readFileSync(path, 'utf8').trim();
    if (saved) return { secret: saved, generated: false };
  } catch {
    // first start: fall through and generate one
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = `${prefix}${randomBytes(24).toString('base64url')}`;
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return { secret, generated: true };
}
