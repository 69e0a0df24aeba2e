import { readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildSync } from 'esbuild';

/**
 * The service's sources as plain JavaScript, for the tests to start processes from. Under
 * `node --import tsx` a start spent ~1.7 s in tsx's module hooks (one round trip to its
 * loader thread per module, ~200 modules), about twice the rest of the start; the suite
 * starts the service a few hundred times. esbuild does per file what tsx does on the fly
 * (the same transform), so the processes run the same code.
 *
 * The output keeps src's layout one level below the root (dist/service/start.js ↔
 * src/service/start.ts), so the paths the code finds from import.meta.url (the root,
 * pipes/, clickhouse/) resolve alike; the dashboard's static files are linked in.
 * Returns the entry point, dist/main.js.
 */
export function buildServiceJs(root: string): string {
  const src = join(root, 'src');
  const out = join(root, 'dist');
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => join(src, f));
  rmSync(out, { recursive: true, force: true });
  buildSync({
    entryPoints: files,
    outdir: out,
    outbase: src,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  const publicDir = join(src, 'dashboard', 'public');
  const link = join(out, 'dashboard', 'public');
  symlinkSync(relative(join(out, 'dashboard'), publicDir), link);
  return join(out, 'main.js');
}
