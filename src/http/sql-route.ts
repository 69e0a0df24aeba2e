import { type Context, Hono } from 'hono';
import type { TokenStore } from '../auth/index.js';
import { clickhouseCode, isTimeoutError } from '../clickhouse/errors.js';
import { readText } from '../clickhouse/read-text.js';
import type { Reader } from '../clickhouse/reader.js';
import { cachedUserSqlGuard, SqlRefused } from '../sql/guard.js';
import { identify } from './auth.js';
import { datasourceReadDenied, readsDatasources } from './datasource-read.js';
import { jsonError } from './errors.js';

const DOC = 'https://www.tinybird.co/docs/api-reference/query-api';
// Text formats served, by the name ClickHouse knows them, with their content type.
const FORMATS: Record<string, string> = {
  JSON: 'application/json',
  JSONCompact: 'application/json',
  JSONEachRow: 'application/x-ndjson',
  JSONCompactEachRow: 'application/x-ndjson',
  CSV: 'text/csv',
  CSVWithNames: 'text/csv',
  TSV: 'text/tab-separated-values',
  TSVWithNames: 'text/tab-separated-values',
  TabSeparated: 'text/tab-separated-values',
  TabSeparatedWithNames: 'text/tab-separated-values',
  Pretty: 'text/plain; charset=utf-8',
  PrettyCompact: 'text/plain; charset=utf-8',
  PrettyCompactMonoBlock: 'text/plain; charset=utf-8',
  PrettySpace: 'text/plain; charset=utf-8',
  Vertical: 'text/plain; charset=utf-8',
  Markdown: 'text/markdown; charset=utf-8',
};
// READONLY: a query tried to change a setting of its read-only session.
const READONLY_CODE = 164;

/**
 * GET/POST /v0/sql: Tinybird's Query API, for ADMIN tokens: the way SQL users reach the
 * embedded chDB, which no other process can open while we run. `reader` is a session that
 * was read-only from its creation (readonly=1, limits pinned); the guard (src/sql/guard.ts)
 * lets exactly one read statement through, and only that formatted statement runs.
 */
export function sqlRoute(deps: { reader: () => Reader | undefined; tokens: TokenStore }): Hono {
  const app = new Hono();
  const guard = cachedUserSqlGuard();
  const handle = async (c: Context, q: string | undefined) => {
    const who = identify(c, deps.tokens, DOC);
    if (!who.ok) return who.response;
    // ADMIN runs any read statement; DATASOURCES:READ tokens the SELECTs over their datasources.
    const admin = deps.tokens.allows(who.token, 'ADMIN', '');
    if (!admin && !readsDatasources(who.token)) {
      return jsonError(
        c,
        403,
        `The token "${who.token.name}" lacks the scope ADMIN or DATASOURCES:READ`,
        DOC,
      );
    }
    if (!q?.trim()) return jsonError(c, 400, 'Missing parameter "q": the SQL query to run', DOC);
    const reader = deps.reader();
    if (!reader) return jsonError(c, 503, 'Not ready yet, retry shortly', DOC, { 'Retry-After': '1' });
    try {
      const { statement, format = 'JSON', reads } = await guard(reader, q);
      const denied = admin ? undefined : datasourceReadDenied(deps.tokens, who.token, reads);
      if (denied) return jsonError(c, 403, denied, DOC);
      const [formatName, contentType] =
        Object.entries(FORMATS).find(([f]) => f.toLowerCase() === format.toLowerCase()) ?? [];
      if (!formatName || !contentType) {
        return jsonError(
          c,
          400,
          `Unsupported FORMAT ${format}: use one of ${Object.keys(FORMATS).join(', ')}`,
          DOC,
        );
      }
      const result = await reader.exec({ query: `${statement}\nFORMAT ${formatName}` });
      return c.body(await readText(result.stream), 200, { 'Content-Type': contentType });
    } catch (err) {
      if (err instanceof SqlRefused) {
        return jsonError(
          c,
          err.status,
          err.status === 403 ? `Not allowed in /v0/sql: ${err.message}` : err.message,
          DOC,
        );
      }
      const e = err as Error & { code?: string };
      const status = isTimeoutError(e) ? 408 : clickhouseCode(e) === READONLY_CODE ? 403 : 400;
      return jsonError(
        c,
        status,
        `[Error] ${e.message.split('\n')[0]}`,
        DOC,
        e.code ? { 'X-DB-Exception-Code': e.code } : {},
      );
    }
  };
  app.get('/', (c) => handle(c, c.req.query('q')));
  app.post('/', async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (type.includes('application/x-www-form-urlencoded')) {
      // A form with q=... (HTML forms, Tinybird clients), or, as curl --data-binary sends
      // it, the SQL itself under the form content type.
      const text = await c.req.text();
      const form = new URLSearchParams(text);
      return handle(c, form.has('q') ? (form.get('q') ?? undefined) : text);
    }
    if (type.includes('application/json')) {
      const body = (await c.req.json().catch(() => ({}))) as { q?: unknown };
      return handle(c, typeof body.q === 'string' ? body.q : undefined);
    }
    return handle(c, c.req.query('q') ?? (await c.req.text()));
  });
  return app;
}
