import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Who holds an embedded data directory. chDB (like clickhouse-local) locks
 * `<dir>/status` and writes its PID there; a second process cannot open the directory.
 * The CLI asks before opening, so the answer names the process instead of chDB's
 * "Failed to create connection".
 */
export function chdbHolder(chdbDir: string): { pid: number; since: string } | undefined {
  let text: string;
  try {
    text = readFileSync(join(chdbDir, 'status'), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(/^PID:\s*(\d+)/m.exec(text)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // ESRCH: the file is left from a stopped process. EPERM: it runs, as another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return { pid, since: /^Started at:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? '?' };
}
