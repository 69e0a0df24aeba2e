import { type Context, Hono } from 'hono';
import { compress } from 'hono/compress';
import type { TokenStore } from '../auth/index.js';
import { isTimeoutError } from '../clickhouse/errors.js';
import { readBytes, readText } from '../clickhouse/read-text.js';
import type { Reader } from '../clickhouse/reader.js';
import type { Metrics } from '../metrics/registry.js';
import { BUCKETED_WINDOW_TAG, openMovingWindow, splitBucketedWindow } from '../pipes/bucket-window.js';
import { type Pipe, renderPipe } from '../pipes/compile.js';
import { concatMemo } from '../pipes/concat-answers.js';
import { describeParams, describePipe } from '../pipes/describe.js';
import { edgeAhead } from '../pipes/edge-ahead.js';
import { RequestError, TemplateRuntimeError } from '../pipes/errors.js';
import { DEFAULT_EXPORT_MAX_ROWS, streamExport } from '../pipes/export.js';
import { applyFixedParams } from '../pipes/fixed-params.js';
import { FORMATS, parsePipeFile } from '../pipes/formats.js';
import { lookupJob } from '../pipes/lookup-job.js';
import { latestRows, movingEnd, nextUtcDay } from '../pipes/moving-end.js';
import { buildOpenApi, type Column, sampleRequest } from '../pipes/openapi.js';
import type { RequestParams } from '../pipes/params.js';
import type { ReadCoalescer } from '../pipes/read-coalescer.js';
import { renderMemo } from '../pipes/render-memo.js';
import type { CachedResult, CacheOutcome, Lifetime, ResultCache } from '../pipes/result-cache.js';
import { ROLLUP_WINDOW_TAG, widenExpiredEdges } from '../pipes/retention-window.js';
import { selectRows, splitSelection } from '../pipes/row-select.js';
import { SqlRefused } from '../sql/guard.js';
import { sqlOverResult } from '../sql/over-result.js';
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
// SQL whose answer changes with the time of day, not only with the data.
const READS_CLOCK = /\b(now|now64|today|yesterday|currentDate|rand\w*|generateUUID\w*)\s*\(/i;

/** Does the pipe take a look-back window (window.incl's interval)? */
const lookBack = (pipe: Pipe) => pipe.params.some((p) => p.name === 'interval');

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
  const render = renderMemo(deps.secrets);
  const concat = concatMemo();
  const nextEdge = edgeAhead();
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
  const cache = deps.cache;
  const latest = cache ? latestRows(deps.client, () => cache.generation()) : undefined;
  const coalescer = deps.coalescer;

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
    let sql: string;
    let params: Record<string, unknown>;
    let q: string | undefined;
    // CSV is the export format: no max= page bounds, rows capped at exportMaxRows, streamed.
    const exporting = format === 'csv' || format === 'csvwithnames';
    const bypass = !deps.cache || /no-cache|no-store/i.test(c.req.header('cache-control') ?? '');
    // A moving window cut at bucket edges: the settled buckets are cached until an insert (bucket-window.ts).
    let windows: Array<{ request: RequestParams; lifetime?: Lifetime }> | undefined;
    let request: RequestParams = new Map();
    let limit = Number.POSITIVE_INFINITY;
    const now = Date.now();
    try {
      const sent = await requestParams(c);
      q = sent.get('q')?.[0];
      sent.delete('q');
      // A JWT's fixed parameters win over whatever the caller sent (tenant isolation).
      applyFixedParams(sent, auth.token, name);
      request = pipe.tags.includes(ROLLUP_WINDOW_TAG)
        ? widenExpiredEdges(sent, now, deps.rawRetentionDays ?? 0, lookBack(pipe))
        : sent;
      ({ sql, params } = render(pipe, request, { exporting }));
      // SQL over the result (q) reads the whole answer: not cut into windows.
      const split =
        !bypass && !exporting && q === undefined && pipe.tags.includes(BUCKETED_WINDOW_TAG)
          ? splitBucketedWindow(request, now)
          : undefined;
      if (split) {
        windows = split.map((sub) => ({ request: sub }));
        for (const w of windows) render(pipe, w.request); // a window the template refuses fails here, as a 400
        const spec = pipe.params.find((s) => s.name === 'limit');
        limit = Number(request.get('limit')?.[0] ?? spec?.default ?? limit);
      }
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
    if (q !== undefined) {
      try {
        sql = await sqlOverResult(deps.client, q, sql);
      } catch (err) {
        if (err instanceof SqlRefused) return jsonError(c, err.status, `Parameter "q": ${err.message}`, DOC);
        const first = ((err as Error).message ?? '').split('\n')[0]?.slice(0, 500);
        return jsonError(c, 400, `Parameter "q": [Error] ${first}`, DOC);
      }
    }
    const quote64 = c.req.query('output_format_json_quote_64bit_integers') === '1' ? 1 : 0;
    const fmt = FORMATS[format];
    // Query-level SETTINGS: they apply to this query only (a chDB session keeps SET values).
    const threads = deps.maxThreads ? `, max_threads = ${Math.floor(deps.maxThreads)}` : '';
    const settings = `max_execution_time = ${timeout}, output_format_json_quote_64bit_integers = ${quote64}${threads}`;
    const toQuery = (s: string) => `${s}\nSETTINGS ${settings}\nFORMAT ${fmt.clickhouse}`;
    const query = toQuery(sql);
    const runQuery = (text: string, p: Record<string, unknown>) => async (): Promise<CachedResult> => {
      const result = await deps.client.exec({ query: text, query_params: p });
      const body =
        'binary' in fmt ? new Uint8Array(await readBytes(result.stream)) : await readText(result.stream);
      return { body, contentType: fmt.contentType };
    };
    // A point lookup of a pipe with a batch node may share one query with others (read-coalescer.ts).
    const batchable = coalescer && pipe.batch && format === 'json' && q === undefined;
    // (FORMAT JSON only, so runQuery's body is text.)
    const runText = async (text: string, p: Record<string, unknown>) =>
      String((await runQuery(text, p)()).body);
    // Built only when the cache misses: a hit does none of this.
    const answer =
      (req: RequestParams, text: string, p: Record<string, unknown>) => async (): Promise<CachedResult> => {
        const job =
          batchable &&
          lookupJob(pipe, req, { query: text, params: p }, { secrets: deps.secrets, toQuery, run: runText });
        if (!job) return runQuery(text, p)();
        return { body: await (coalescer as ReadCoalescer).answer(job), contentType: fmt.contentType };
      };
    const run = answer(request, query, params);
    const key = (text: string, p: Record<string, unknown>) => `${text}\n${JSON.stringify(p)}`;
    const selecting = q === undefined && (format === 'json' || format === 'ndjson');
    // One question through the cache (the rendered SQL and its bound values are the whole
    // question: equal keys, equal answers). A question that only names rows of a wider one
    // (row-select.ts) is answered from the wider one's rows.
    const ask = (
      req: RequestParams,
      lifetime?: Lifetime,
    ): Promise<{ result: CachedResult; outcome: CacheOutcome }> => {
      const r = render(pipe, req);
      const text = toQuery(r.sql);
      const life = lifetime ?? READS_CLOCK.test(text);
      const c = cache as ResultCache;
      const selection = selecting ? splitSelection(pipe.tags, pipe.params, req) : undefined;
      if (!selection) return c.get(key(text, r.params), answer(req, text, r.params), life);
      return c.get(
        key(text, r.params),
        async () => {
          let whole: { result: CachedResult } | undefined;
          try {
            whole = await ask(selection.base, lifetime);
          } catch {
            // The wider question is refused (not a valid request, or a window only this one can
            // answer, as cross_feature_usage's before the raw retention): ask this one.
          }
          const picked = whole && selectRows(format, String(whole.result.body), selection);
          if (whole && picked !== undefined)
            return { body: picked, contentType: whole.result.contentType, expires: whole.result.expires };
          return answer(req, text, r.params)();
        },
        life,
      );
    };
    // A window ending now over data with no later row holds until the next insert or until
    // its start moves (moving-end.ts); its generation is the one the data was checked in.
    const end = movingEnd(pipe.tags);
    const renders = (req: RequestParams) => {
      try {
        render(pipe, req);
        return true;
      } catch {
        return false;
      }
    };
    const holdsUntil = async (until: number): Promise<Lifetime | undefined> => {
      if (!end || !latest) return undefined;
      const seen = latest(end.table, end.column);
      return (await seen.latest) <= now ? { until, generation: seen.generation } : undefined;
    };
    try {
      if (exporting) {
        const maxRows = deps.exportMaxRows ?? DEFAULT_EXPORT_MAX_ROWS;
        return await streamExport(deps.client, { sql, params, maxRows, settings });
      }
      if (windows) {
        const open = end
          ? openMovingWindow(
              windows.map((w) => w.request),
              request,
              now,
            )
          : undefined;
        const lifetime = open && (await holdsUntil(open.until));
        // (Rendered first: a window the template refused would otherwise surface as a 500.)
        if (open && lifetime && renders(open.window))
          windows[windows.length - 1] = { request: open.window, lifetime };
        const parts = await Promise.all(windows.map((w) => ask(w.request, w.lifetime)));
        // The next second's first bucket, asked ahead so the next second finds it (edge-ahead.ts).
        const ahead = nextEdge(request, now);
        if (ahead) ask(ahead).catch(() => undefined);
        // Only text formats (.json, .ndjson) are cut into windows.
        const body = concat(
          format,
          parts.map((p) => p.result),
          limit,
        );
        const outcome = parts.every((p) => p.outcome === 'HIT') ? 'HIT' : 'MISS';
        return await send(c, body, body, fmt.contentType, outcome);
      }
      const { result, outcome }: { result: CachedResult; outcome: CacheOutcome } = bypass
        ? { result: await run(), outcome: 'BYPASS' }
        : q !== undefined
          ? await (cache as ResultCache).get(key(query, params), run, READS_CLOCK.test(query))
          : // A bucketed window's clock reading is more than its end: only its last bucket is held.
            await ask(
              request,
              pipe.tags.includes(BUCKETED_WINDOW_TAG) ? undefined : await holdsUntil(nextUtcDay(now)),
            );
      return await send(c, result, result.body, result.contentType, outcome);
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
