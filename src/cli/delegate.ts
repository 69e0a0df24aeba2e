import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs one of the project's own entry points (src/migrate.ts, scripts/…) with the given
 * arguments, as `npm run migrate|report|generate` does (node --import tsx, one process, so a
 * signal reaches it), passing stdin, stdout and stderr through. Resolves to its exit code.
 * The CLI wraps these tools instead of re-implementing them: one set of flags and one help text each.
 */
export function runEntryPoint(relativePath: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    // The caller's working directory, so relative paths in the arguments mean what they typed;
    // tsx and the entry point are found from this checkout wherever that is.
    const child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), join(ROOT, relativePath), ...args],
      {
        stdio: 'inherit',
        env: process.env,
      },
    );
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onTerm = forward('SIGTERM');
    const onInt = forward('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve(code ?? (signal ? 128 + 15 : 1));
    });
  });
}
