import { randomUUID } from 'node:crypto';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { type Context, Hono } from 'hono';
import type { TokenStore } from '../auth/index.js';
import type { Log } from '../log/index.js';
import { ClickHouseException, exceptionBody, exceptionStatus, toException } from './exception.js';
import type { Answer, Executor } from './execute.js';
import { parseSqlRequest } from './request.js';

export interface SqlHttpOptions {
  tokens: TokenStore;
  execute: Executor;
  /** 'readonly' needs ADMIN or SQL:READ; 'writable' (tests only) needs ADMIN. */
  mode: 'readonly' | 'writable';
  /** The largest request body accepted (after decompression). */
  maxBodyBytes: number;
  /** Reported in exception texts, as ClickHouse reports its version. */
  version: string;
  log: Log;
}

const CONTENT_TYPES: [RegExp, string][] = [
  [/^(JSON|JSONCompact|JSONStrings|JSONObjectEachRow)$/i, 'application/json; charset=UTF-8'],
  [/^(JSON|JSONCompact|JSONStrings)\w*EachRow\w*$/i, 'application/x-ndjson; charset=UTF-8'],
  [/^(TabSeparated|TSV)\w*$/i, 'text/tab-separated-values; charset=UTF-8'],
  [/^CSV\w*$/i, 'text/csv; charset=UTF-8; header=absent'],
  [/^(Pretty\w*|Vertical|Markdown|Values|XML|Prometheus)$/i, 'text/plain; charset=UTF-8'],
];

function contentType(format: string): string {
  return CONTENT_TYPES.find(([re]) => re.test(format))?.[1] ?? 'application/octet-stream';
}

/**
 * ClickHouse's HTTP interface (https://clickhouse.com/docs/interfaces/http) over the
 * embedded store, for SQL tools that speak it: `@clickhouse/client`, curl, Grafana,
 * DBeaver. Credentials are our tokens: the password (basic auth, X-ClickHouse-Key or
 * ?password=) is the token; the user name is only echoed in logs.
 */
export function sqlHttpApp(opts: SqlHttpOptions): Hono {
  const app = new Hono();
  const ok = (c: Context) => c.text('Ok.\n');
  app.get('/ping', ok);
  app.on('HEAD', '/ping', ok);

  const handle = async (c: Context) => {
    const queryId = c.req.query('query_id') || randomUUID();
    const common = {
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Timezone': 'UTC',
      'X-ClickHouse-Server-Display-Name': 'feature-events',
    };
    try {
      // GET / with no query is the server's liveness answer, as in ClickHouse.
      if (c.req.method === 'GET' && !c.req.query('query')) return ok(c);
      const declared = Number(c.req.header('content-length') ?? 0);
      if (declared > opts.maxBodyBytes)
        throw new ClickHouseException(
          393,
          'QUERY_IS_TOO_LARGE',
          `The request body is larger than ${opts.maxBodyBytes} bytes`,
        );
      const req = await parseSqlRequest(c, opts.maxBodyBytes);
      authenticate(opts, req.user, req.key);
      if (!req.query.trim()) throw new ClickHouseException(62, 'SYNTAX_ERROR', 'Empty query');
      const answer = await opts.execute(req);
      return respond(c, answer, { ...common, 'X-ClickHouse-Format': answer.format }, req.compressResponse);
    } catch (err) {
      const e = toException(err);
      const status = exceptionStatus(e);
      if (status >= 500)
        opts.log('warn', 'SQL listener query failed', { code: e.code, error: e.message.slice(0, 300) });
      return new Response(exceptionBody(e, opts.version), {
        status,
        headers: {
          ...common,
          'Content-Type': 'text/plain; charset=UTF-8',
          'X-ClickHouse-Exception-Code': String(e.code),
        },
      });
    }
  };
  app.get('/', handle);
  app.post('/', handle);
  app.notFound((c) => c.text('There is no handle for this path; use /, /?query= or /ping\n', 404));
  return app;
}

function authenticate(opts: SqlHttpOptions, user: string | undefined, key: string | undefined): void {
  const who = user || 'default';
  if (!key)
    throw new ClickHouseException(194, 'REQUIRED_PASSWORD', `${who}: a token is required as the password`);
  const token = opts.tokens.find(key);
  const allowed =
    token &&
    (opts.mode === 'writable'
      ? opts.tokens.allows(token, 'ADMIN', '')
      : opts.tokens.allows(token, 'SQL:READ', ''));
  // One answer for an unknown token and one without the scope, as ClickHouse does.
  if (!allowed)
    throw new ClickHouseException(
      516,
      'AUTHENTICATION_FAILED',
      `${who}: Authentication failed: password is incorrect, or there is no user with such name`,
    );
}

function respond(c: Context, answer: Answer, headers: Record<string, string>, compress: boolean): Response {
  const out: Record<string, string> = { ...headers, 'Content-Type': contentType(answer.format) };
  if (answer.summary) out['X-ClickHouse-Summary'] = JSON.stringify(answer.summary);
  let body: Uint8Array = answer.body;
  if (compress) {
    const accepted = (c.req.header('accept-encoding') ?? '').toLowerCase();
    const encoding = ['gzip', 'br', 'deflate'].find((e) => accepted.includes(e));
    if (encoding) {
      body =
        encoding === 'gzip'
          ? gzipSync(body)
          : encoding === 'br'
            ? brotliCompressSync(body)
            : deflateSync(body);
      out['Content-Encoding'] = encoding;
    }
  }
  return new Response(body as Uint8Array<ArrayBuffer>, { status: 200, headers: out });
}
