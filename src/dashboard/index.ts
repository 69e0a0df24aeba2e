import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type Context, Hono } from 'hono';

const PUBLIC = fileURLToPath(new URL('./public', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
}

function asset(path: string): Asset {
  const body = readFileSync(path);
  const type = TYPES[extname(path)] ?? 'application/octet-stream';
  return {
    body,
    gzip: gzipSync(body, { level: 9 }),
    type,
    etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
  };
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** The page's files by URL path: our own (src/dashboard/public) and uPlot's from node_modules. */
export function loadDashboardAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const path of walk(PUBLIC)) assets.set(`/dashboard/${relative(PUBLIC, path)}`, asset(path));
  const uplot = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));
  for (const name of ['uPlot.iife.min.js', 'uPlot.min.css'])
    assets.set(`/dashboard/vendor/${name}`, asset(join(uplot, name)));
  return assets;
}

/**
 * GET / and /dashboard: the dashboard, served by the service itself: no build step, no
 * CDN. Files are read once at start, gzipped once, and revalidated by ETag. The page reads
 * only the public pipe endpoints with the token the user signs in with.
 */
export function dashboardRoute(assets = loadDashboardAssets()): Hono {
  const app = new Hono();
  const index = assets.get('/dashboard/index.html') as Asset;
  const serve = (c: Context) => {
    const path = c.req.path.replace(/\/+$/, '');
    const file = path === '' || path === '/dashboard' ? index : assets.get(path);
    if (!file) return c.notFound();
    const headers: Record<string, string> = {
      'Content-Type': file.type,
      ETag: file.etag,
      'Cache-Control': 'no-cache',
      Vary: 'Accept-Encoding',
      'X-Content-Type-Options': 'nosniff',
    };
    if (c.req.header('if-none-match') === file.etag) return c.body(null, 304, headers);
    if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
      return c.body(new Uint8Array(file.gzip), 200, { ...headers, 'Content-Encoding': 'gzip' });
    }
    return c.body(new Uint8Array(file.body), 200, headers);
  };
  app.get('/', serve);
  app.get('/dashboard', serve);
  app.get('/dashboard/*', serve);
  return app;
}
