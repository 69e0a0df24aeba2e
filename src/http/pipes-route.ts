import { type Context, Hono } from 'hono';
import { compress } from 'hono/compress';
import type { TokenStore } from '../auth/index.js';
import { isTimeoutError } from '../clickhouse/errors.js';
import type { Reader } from '../clickhouse/reader.js';
import type { Metrics } from '../metrics/registry.js';
import { type Pipe, renderPipe } from '../pipes/compile.js';
import { describeParams, describePipe } from '../pipes/describe.js';
import { RequestError, TemplateRuntimeError } from '../pipes/errors.js';
import { applyFixedParams } from '../pipes/fixed-params.js';
import { FORMATS, parsePipeFile } from '../pipes/formats.js';
import { buildOpenApi, type Column, sampleRequest } from '../pipes/openapi.js';
import type { RequestParams } from '../pipes/params.js';
import { type PipeQuestion, pipeAnswers } from '../pipes/pipe-answers.js';
import type { ReadCoalescer } from '../pipes/read-coalescer.js';
import type { ResultCache } from '../pipes/result-cache.js';
import { SqlRefused } from '../sql/guard.js';
import { authorize, identify } from './auth.js';
import { DOCS, jsonError } from './errors.js';
import { gzipOnce } from './gzip-once.js';
import { pipeMetrics } from './pipe-metrics.js';

export interface PipesAppDeps {
  client: Reader;
  pipes: Map<string, Pipe>;
  tokens: TokenStore;
  /** ClickHouse max_execution_time for one pipe query; over it the caller gets 408. Default 10 s. */
  timeoutSeconds?: number;
  /** Answers kept between inserts; a request with Cache-Control: no-cache skips it. */
  cache?: ResultCache;
  /** Rows a .csv answer (an export) stops at; default 50,000 (EXPORT_MAX_ROWS). */
  exportMaxRows?: number;
  /** max_threads of each pipe query; 0 or unset = ClickHouse's default. */
  maxThreads?: number;
  /** tb_secret() values by name (TB_SECRET_<name> variables). */
  secrets?: ReadonlyMap<string, string>;
  /** Pipe requests by pipe, status and cache outcome (src/metrics). */
  metrics?: Metrics;
  /** RAW_RETENTION_DAYS: "rollup_window" pipes read edges older than that from the rollup (retention-window.ts). */
  rawRetentionDays?: number;
  /** Lookups of pipes with a batch node wait, while every reader is busy, to run as one query; unset: each runs alone. */
  coalescer?: ReadCoalescer;
}

const DOC = DOCS.pipes;

// ClickHouse error codes caused by the values a caller sent (not by the pipe): answer 400.
const BAD_INPUT_CODES = new Set(['6', '26', '27', '38', '41', '69', '70', '72', '321', '395', '457']);
/** Query string (repeated keys kept) plus, for POST, a JSON or form body. Reserved names never reach templates. */
async function requestParams(c: Context): Promise<RequestParams> {
  const params: RequestParams = new Map();
  const add = (k: string, v: unknown) => {
    if (v === undefined || v === null) return;
    const list = params.get(k) ?? [];
    if (Array.isArray(v)) list.push(...v.map(String));
    else list.push(String(v));
    params.set(k, list);
  };
  for (const [k, v] of new URL(c.req.url).searchParams) add(k, v);
  if (c.req.method === 'POST') {
    const type = c.req.header('content-type') ?? '';
    if (type.includes('application/json')) {
      const body = (await c.req.json().catch(() => undefined)) as unknown;
      if (body === undefined || typeof body !== 'object' || Array.isArray(body)) {
        throw new RequestError('The request body must be a JSON object of parameters');
      }
      for (const [k, v] of Object.entries(body as Record<string, unknown>)) add(k, v);
    } else if (type.includes('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(await c.req.text())) add(k, v);
    }
  }
  for (const k of ['token', 'q', 'format', 'pipeline', 'debug', 'from', 'query_id', 'tag']) {
    if (k !== 'q') params.delete(k);
  }
  return params;
}

function origin(c: Context): string {
  const url = new URL(c.req.url);
  const proto = c.req.header('x-forwarded-proto') ?? url.protocol.replace(':', '');
  const host = c.req.header('x-forwarded-host') ?? c.req.header('host') ?? url.host;
  return `${proto}://${host}`;
}

/** The Pipes API: GET / (list), GET /openapi.json, GET|POST /<pipe>.<json|csv|ndjson>. Mount at /v0/pipes. */
export function createPipesApp(deps: PipesAppDeps): Hono {
  const app = new Hono();
  // gzip for clients that accept it (Tinybird does so): answers over 1 KiB, exports streamed.
  app.use('*', compress({ encoding: 'gzip' }));
  if (deps.metrics) app.use('/:file', pipeMetrics(deps.metrics, deps.pipes));
  const timeout = deps.timeoutSeconds ?? 10;
  const columnCache = new Map<string, Promise<Column[] | undefined>>();
  const gzipped = gzipOnce();
  // An answer (kept by the cache, or a window's joined parts) goes out gzipped once per answer.
  const send = async (
    c: Context,
    answer: object,
    body: string | Uint8Array<ArrayBuffer>,
    type: string,
    outcome: string,
  ) => {
    const headers = { 'Content-Type': type, 'X-Cache': outcome };
    const gz = gzipped(c, answer, body, type);
    if (!gz) return c.body(body, 200, headers);
    return c.body(await gz, 200, { ...headers, 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
  };
  const answers = pipeAnswers({ ...deps, timeoutSeconds: timeout });

  const readable = (c: Context) => {
    const who = identify(c, deps.tokens, DOC);
    if (!who.ok) return who;
    const token = who.token;
    return {
      ok: true as const,
      pipes: [...deps.pipes.values()].filter((p) => deps.tokens.allows(token, 'PIPES:READ', p.name)),
    };
  };

  /** Output columns of a pipe, from DESCRIBE over a sample rendering; cached for the life of the app. */
  const describe = (pipe: Pipe): Promise<Column[] | undefined> => {
    let cached = columnCache.get(pipe.name);
    if (!cached) {
      cached = (async () => {
        try {
          const { sql, params } = renderPipe(pipe, sampleRequest(pipe));
          const result = await deps.client.query({
            query: `DESCRIBE TABLE (${sql})`,
            query_params: params,
            format: 'JSONEachRow',
          });
          return (await result.json<Column>()).map(({ name, type }) => ({ name, type }));
        } catch {
          columnCache.delete(pipe.name); // retry on the next request rather than cache a failure
          return undefined;
        }
      })();
      columnCache.set(pipe.name, cached);
    }
    return cached;
  };

  app.get('/', (c) => {
    const r = readable(c);
    if (!r.ok) return r.response;
    return c.json({
      pipes: r.pipes.map((p) => ({
        name: p.name,
        description: p.description,
        tags: p.tags,
        endpoint: p.endpoint,
        url: `/v0/pipes/${p.name}.json`,
        nodes: p.nodes.map((n) => ({ name: n.name, description: n.description })),
        parameters: describeParams(p),
      })),
    });
  });

  app.get('/openapi.json', async (c) => {
    const r = readable(c);
    if (!r.ok) return r.response;
    const columns = new Map<string, Column[] | undefined>();
    for (const p of r.pipes) columns.set(p.name, await describe(p));
    return c.json(buildOpenApi(origin(c), r.pipes, columns));
  });

  const serve = async (c: Context) => {
    const { name, format, ext } = parsePipeFile(c.req.param('file') ?? '', c.req.query('format'));
    const auth = authorize(c, deps.tokens, 'PIPES:READ', name, DOC);
    if (!auth.ok) return auth.response;
    const pipe = deps.pipes.get(name);
    if (!pipe) return jsonError(c, 404, `The pipe "${name}" does not exist`, DOC);
    if (ext === '' && c.req.method === 'GET') return c.json(describePipe(pipe));
    if (!format) {
      return jsonError(
        c,
        400,
        `Unsupported format "${ext}": use ${Object.keys(FORMATS)
          .map((f) => `${name}.${f}`)
          .join(', ')}`,
        DOC,
      );
    }
    let question: PipeQuestion;
    try {
      const sent = await requestParams(c);
      const q = sent.get('q')?.[0];
      sent.delete('q');
      // A JWT's fixed parameters win over whatever the caller sent (tenant isolation).
      applyFixedParams(sent, auth.token, name);
      const bypass = /no-cache|no-store/i.test(c.req.header('cache-control') ?? '');
      question = answers.prepare(pipe, sent, { format, q, bypass, now: Date.now() });
    } catch (err) {
      if (err instanceof RequestError) return jsonError(c, err.status, err.message, DOC);
      if (err instanceof TemplateRuntimeError) {
        return jsonError(
          c,
          500,
          `The pipe "${name}" has a template error at ${pipe.file}:${err.line}: ${err.message}`,
          DOC,
        );
      }
      return jsonError(c, 500, `The pipe "${name}" could not be rendered`, DOC);
    }
    const q = question.q;
    try {
      await answers.overResult(question);
    } catch (err) {
      if (err instanceof SqlRefused) return jsonError(c, err.status, `Parameter "q": ${err.message}`, DOC);
      const first = ((err as Error).message ?? '').split('\n')[0]?.slice(0, 500);
      return jsonError(c, 400, `Parameter "q": [Error] ${first}`, DOC);
    }
    try {
      const quote64 = c.req.query('output_format_json_quote_64bit_integers') === '1';
      const a = await answers.answer(question, { quote64 });
      if ('response' in a) return a.response;
      return await send(c, a.answer, a.body, a.contentType, a.outcome);
    } catch (err) {
      const e = err as Error & { code?: string; type?: string };
      const code = e.code && /^\d+$/.test(e.code) ? e.code : undefined;
      const headers: Record<string, string> = code ? { 'X-DB-Exception-Code': code } : {};
      const first = (e.message ?? '').split('\n')[0]?.slice(0, 500) ?? '';
      if (isTimeoutError(err)) {
        // (chDB sessions drain a failed query's leftovers themselves: chdb-drain.ts)
        return jsonError(
          c,
          408,
          `The pipe "${name}" took longer than ${timeout} s: narrow the parameters`,
          DOC,
          headers,
        );
      }
      // throwIf (395) carries the pipe's own words; the expression ClickHouse appends is noise.
      const said = code === '395' ? first.replace(/: while executing 'FUNCTION throwIf[\s\S]*$/, '') : first;
      if (code && BAD_INPUT_CODES.has(code)) return jsonError(c, 400, `[Error] ${said}`, DOC, headers);
      // The caller's q failed (an unknown column of _, a type error): their mistake to fix.
      if (code && q !== undefined) return jsonError(c, 400, `Parameter "q": [Error] ${first}`, DOC, headers);
      return jsonError(
        c,
        500,
        `The pipe "${name}" failed in ClickHouse${code ? ` (code ${code})` : ''}: ${first}`,
        DOC,
        headers,
      );
    }
  };
  app.get('/:file', serve);
  app.post('/:file', serve);
  return app;
}
