import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { Context } from 'hono';
import { ClickHouseException } from './exception.js';

/** One request to the ClickHouse HTTP interface, taken apart. */
export interface SqlRequest {
  /** The statement text: the `query` URL parameter, or the body, or both (query, newline, body). */
  query: string;
  /** With `query` in the URL, the body is the INSERT data (writable mode only runs it as such). */
  data?: Buffer;
  /** `param_<name>` values, as sent (ClickHouse's escaped text). */
  params: Map<string, string>;
  /** Settings from the URL other than the HTTP interface's own parameters. */
  settings: Record<string, string>;
  /** default_format, or the X-ClickHouse-Format header. */
  defaultFormat?: string;
  database?: string;
  queryId?: string;
  user?: string;
  key?: string;
  /** The response may be compressed (enable_http_compression=1), with the encodings the client accepts. */
  compressResponse: boolean;
}

// URL parameters that belong to the HTTP interface itself, not to the query's settings.
// Sessions are not supported: session_* is accepted and ignored, as is everything about
// progress headers, which this listener never sends.
const HTTP_PARAMETERS = new Set([
  'query',
  'database',
  'default_format',
  'query_id',
  'user',
  'password',
  'quota_key',
  'role',
  'session_id',
  'session_timeout',
  'session_check',
  'compress',
  'decompress',
  'enable_http_compression',
  'http_zlib_compression_level',
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'buffer_size',
  'add_http_cors_header',
]);

/** Reads the request (its body decompressed per Content-Encoding, at most maxBodyBytes). */
export async function parseSqlRequest(c: Context, maxBodyBytes: number): Promise<SqlRequest> {
  const url = new URL(c.req.url);
  const fields = new Map<string, string>();
  for (const [k, v] of url.searchParams) fields.set(k, v);
  let body: Buffer | undefined;
  if (c.req.method === 'POST') {
    const type = c.req.header('content-type') ?? '';
    if (type.startsWith('multipart/form-data')) {
      // clickhouse-js sends long parameters this way: parts named query and param_*.
      const form = await c.req.formData();
      for (const [k, v] of form) fields.set(k, typeof v === 'string' ? v : await v.text());
    } else {
      body = decompress(
        Buffer.from(await c.req.arrayBuffer()),
        c.req.header('content-encoding'),
        maxBodyBytes,
      );
    }
  }
  const urlQuery = fields.get('query');
  let query: string;
  let data: Buffer | undefined;
  if (urlQuery !== undefined && body && body.length > 0) {
    query = urlQuery;
    data = body;
  } else {
    query = urlQuery ?? body?.toString('utf8') ?? '';
  }
  const params = new Map<string, string>();
  const settings: Record<string, string> = {};
  for (const [k, v] of fields) {
    if (k.startsWith('param_')) params.set(k.slice('param_'.length), v);
    else if (!HTTP_PARAMETERS.has(k)) settings[k] = v;
  }
  const basic = parseBasicAuth(c.req.header('authorization'));
  return {
    query,
    data,
    params,
    settings,
    defaultFormat: fields.get('default_format') ?? c.req.header('x-clickhouse-format'),
    database: c.req.header('x-clickhouse-database') ?? fields.get('database'),
    queryId: fields.get('query_id'),
    user: c.req.header('x-clickhouse-user') ?? basic?.user ?? fields.get('user'),
    key: c.req.header('x-clickhouse-key') ?? basic?.password ?? fields.get('password'),
    compressResponse: fields.get('enable_http_compression') === '1',
  };
}

function parseBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  const m = header?.match(/^Basic\s+(.+)$/i);
  if (!m?.[1]) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0
    ? { user: text, password: '' }
    : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

function decompress(body: Buffer, encoding: string | undefined, maxBytes: number): Buffer {
  const enc = (encoding ?? '').trim().toLowerCase();
  const opts = { maxOutputLength: maxBytes };
  let out: Buffer;
  try {
    if (enc === '' || enc === 'identity') out = body;
    else if (enc === 'gzip' || enc === 'x-gzip') out = gunzipSync(body, opts);
    else if (enc === 'deflate') out = inflateSync(body, opts);
    else if (enc === 'br') out = brotliDecompressSync(body, opts);
    else
      throw new ClickHouseException(
        36,
        'BAD_ARGUMENTS',
        `Unknown Content-Encoding ${enc}: use gzip, deflate or br`,
      );
  } catch (err) {
    if (err instanceof ClickHouseException) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new ClickHouseException(
        393,
        'QUERY_IS_TOO_LARGE',
        `The request body expands past ${maxBytes} bytes`,
      );
    throw new ClickHouseException(
      36,
      'BAD_ARGUMENTS',
      `Cannot decompress the request body (${enc}): ${(err as Error).message}`,
    );
  }
  if (out.length > maxBytes)
    throw new ClickHouseException(
      393,
      'QUERY_IS_TOO_LARGE',
      `The request body is larger than ${maxBytes} bytes`,
    );
  return out;
}
