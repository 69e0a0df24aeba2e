import type { ClickHouseClient } from '@clickhouse/client';
import { type Context, Hono } from 'hono';
import type { TokenStore } from '../auth/index.js';
import { authorize } from './auth.js';
import { jsonError } from './errors.js';
import { checkReadOnlySql, SqlRefused } from './sql-guard.js';

const DOC = 'https://www.tinybird.co/docs/api-reference/query-api';
const FORMATS: Record<string, string> = {
  JSON: 'application/json',
  JSONEachRow: 'application/x-ndjson',
  CSV: 'text/csv',
  CSVWithNames: 'text/csv',
  TSV: 'text/tab-separated-values',
  TSVWithNames: 'text/tab-separated-values',
};

/**
 * GET/POST /v0/sql: Tinybird's Query API. Read-only SQL for ADMIN tokens: the way SQL
 * users reach the embedded chDB, which no other process can open while we run.
 * readonly=2 lets a query set output settings but never write or change the schema.
 */
export function sqlRoute(deps: { client: () => ClickHouseClient | undefined; tokens: TokenStore }): Hono {
  const app = new Hono();
  const handle = async (c: Context, q: string | undefined) => {
    const auth = authorize(c, deps.tokens, 'ADMIN', '', DOC);
    if (!auth.ok) return auth.response;
    if (!q?.trim()) return jsonError(c, 400, 'Missing parameter "q": the SQL query to run', DOC);
    const client = deps.client();
    if (!client) return jsonError(c, 503, 'Not ready yet, retry shortly', DOC, { 'Retry-After': '1' });
    const match = q.match(/\bFORMAT\s+(\w+)\s*;?\s*$/i);
    const format = match?.[1] ?? 'JSON';
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
    const body = (match ? q.slice(0, match.index) : q).replace(/;\s*$/, '');
    const sql = `${body}\nFORMAT ${formatName}`;
    try {
      await checkReadOnlySql(client, body);
      const result = await client.exec({ query: sql, clickhouse_settings: { readonly: '2' } });
      const chunks: Buffer[] = [];
      for await (const chunk of result.stream) chunks.push(Buffer.from(chunk as Uint8Array));
      return c.body(Buffer.concat(chunks).toString('utf8'), 200, { 'Content-Type': contentType });
    } catch (err) {
      if (err instanceof SqlRefused) return jsonError(c, 403, `Not allowed in /v0/sql: ${err.message}`, DOC);
      const e = err as Error & { code?: string };
      return jsonError(
        c,
        400,
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
