import { readBytes, readText } from '../clickhouse/read-text.js';
import type { Reader } from '../clickhouse/reader.js';
import { sqlOverResult } from '../sql/over-result.js';
import { BUCKETED_WINDOW_TAG, openMovingWindow, splitBucketedWindow } from './bucket-window.js';
import type { Pipe } from './compile.js';
import { concatMemo } from './concat-answers.js';
import { edgeAhead } from './edge-ahead.js';
import { DEFAULT_EXPORT_MAX_ROWS, streamExport } from './export.js';
import { FORMATS, type FormatName } from './formats.js';
import { lookupJob } from './lookup-job.js';
import { latestRows, movingEnd, nextUtcDay } from './moving-end.js';
import type { RequestParams } from './params.js';
import type { ReadCoalescer } from './read-coalescer.js';
import { renderMemo } from './render-memo.js';
import type { CachedResult, CacheOutcome, Lifetime, ResultCache } from './result-cache.js';
import { ROLLUP_WINDOW_TAG, widenExpiredEdges } from './retention-window.js';
import { selectRows, splitSelection } from './row-select.js';

export interface PipeAnswersDeps {
  client: Reader;
  /** ClickHouse max_execution_time for one pipe query, in seconds. */
  timeoutSeconds: number;
  /** Answers kept between inserts; unset: every question runs. */
  cache?: ResultCache;
  /** Rows a CSV export stops at; default 50,000 (EXPORT_MAX_ROWS). */
  exportMaxRows?: number;
  /** max_threads of each pipe query; 0 or unset = ClickHouse's default. */
  maxThreads?: number;
  /** tb_secret() values by name. */
  secrets?: ReadonlyMap<string, string>;
  /** RAW_RETENTION_DAYS: "rollup_window" pipes read edges older than that from the rollup. */
  rawRetentionDays?: number;
  /** Lookups of pipes with a batch node may run as one query (read-coalescer.ts). */
  coalescer?: ReadCoalescer;
}

/** One request to a pipe, rendered: what answer() runs. */
export interface PipeQuestion {
  pipe: Pipe;
  format: FormatName;
  request: RequestParams;
  sql: string;
  params: Record<string, unknown>;
  /** SQL over the pipe's result (the `q` parameter), applied by overResult(). */
  q?: string;
  /** CSV is the export format: no max= page bounds, rows capped, streamed. */
  exporting: boolean;
  /** The cache is skipped (Cache-Control: no-cache, or no cache at all). */
  bypass: boolean;
  /** A moving window cut at bucket edges, asked part by part (bucket-window.ts). */
  windows?: Array<{ request: RequestParams; lifetime?: Lifetime }>;
  /** The rows a windowed answer is cut back to. */
  limit: number;
  now: number;
}

/** A pipe's answer: an export's streamed response, or a body the same object stands for on every hit. */
export type PipeAnswer =
  | { response: Response }
  | { answer: object; body: string | Uint8Array<ArrayBuffer>; contentType: string; outcome: CacheOutcome };

// SQL whose answer changes with the time of day, not only with the data.
const READS_CLOCK = /\b(now|now64|today|yesterday|currentDate|rand\w*|generateUUID\w*)\s*\(/i;

/** Does the pipe take a look-back window (window.incl's interval)? */
const lookBack = (pipe: Pipe) => pipe.params.some((p) => p.name === 'interval');

/**
 * How a pipe request becomes an answer, with no HTTP in it (the route is src/http/pipes-route.ts):
 * prepare() renders it (a template refusal throws here), overResult() applies SQL over the
 * result, answer() asks the result cache, cutting moving windows at bucket edges and letting
 * point lookups share one query (read-coalescer.ts) on a miss.
 */
export function pipeAnswers(deps: PipeAnswersDeps) {
  const render = renderMemo(deps.secrets);
  const concat = concatMemo();
  const nextEdge = edgeAhead();
  const cache = deps.cache;
  const latest = cache ? latestRows(deps.client, () => cache.generation()) : undefined;
  const coalescer = deps.coalescer;

  const prepare = (
    pipe: Pipe,
    sent: RequestParams,
    opts: { format: FormatName; q?: string; bypass: boolean; now: number },
  ): PipeQuestion => {
    const { format, q, now } = opts;
    const exporting = format === 'csv' || format === 'csvwithnames';
    const bypass = !cache || opts.bypass;
    const request = pipe.tags.includes(ROLLUP_WINDOW_TAG)
      ? widenExpiredEdges(sent, now, deps.rawRetentionDays ?? 0, lookBack(pipe))
      : sent;
    const { sql, params } = render(pipe, request, { exporting });
    const question: PipeQuestion = {
      pipe,
      format,
      request,
      sql,
      params,
      q,
      exporting,
      bypass,
      limit: Number.POSITIVE_INFINITY,
      now,
    };
    // SQL over the result (q) reads the whole answer: not cut into windows.
    const split =
      !bypass && !exporting && q === undefined && pipe.tags.includes(BUCKETED_WINDOW_TAG)
        ? splitBucketedWindow(request, now)
        : undefined;
    if (split) {
      question.windows = split.map((sub) => ({ request: sub }));
      for (const w of question.windows) render(pipe, w.request); // a window the template refuses fails here, as a 400
      const spec = pipe.params.find((s) => s.name === 'limit');
      question.limit = Number(request.get('limit')?.[0] ?? spec?.default ?? question.limit);
    }
    return question;
  };

  /** Applies the question's q: SqlRefused, or ClickHouse's error, for a q that cannot run. */
  const overResult = async (question: PipeQuestion): Promise<void> => {
    if (question.q !== undefined) question.sql = await sqlOverResult(deps.client, question.q, question.sql);
  };

  const answer = async (question: PipeQuestion, opts: { quote64: boolean }): Promise<PipeAnswer> => {
    const { pipe, format, q, request, now } = question;
    const fmt = FORMATS[format];
    // Query-level SETTINGS: they apply to this query only (a chDB session keeps SET values).
    const threads = deps.maxThreads ? `, max_threads = ${Math.floor(deps.maxThreads)}` : '';
    const settings = `max_execution_time = ${deps.timeoutSeconds}, output_format_json_quote_64bit_integers = ${opts.quote64 ? 1 : 0}${threads}`;
    if (question.exporting) {
      const maxRows = deps.exportMaxRows ?? DEFAULT_EXPORT_MAX_ROWS;
      return {
        response: await streamExport(deps.client, {
          sql: question.sql,
          params: question.params,
          maxRows,
          settings,
        }),
      };
    }
    const toQuery = (s: string) => `${s}\nSETTINGS ${settings}\nFORMAT ${fmt.clickhouse}`;
    const query = toQuery(question.sql);
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
    const run =
      (req: RequestParams, text: string, p: Record<string, unknown>) => async (): Promise<CachedResult> => {
        const job =
          batchable &&
          lookupJob(pipe, req, { query: text, params: p }, { secrets: deps.secrets, toQuery, run: runText });
        if (!job) return runQuery(text, p)();
        return { body: await (coalescer as ReadCoalescer).answer(job), contentType: fmt.contentType };
      };
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
      if (!selection) return c.get(key(text, r.params), run(req, text, r.params), life);
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
          return run(req, text, r.params)();
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
    const windows = question.windows;
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
        question.limit,
      );
      const outcome = parts.every((p) => p.outcome === 'HIT') ? 'HIT' : 'MISS';
      return { answer: body, body, contentType: fmt.contentType, outcome };
    }
    const { result, outcome }: { result: CachedResult; outcome: CacheOutcome } = question.bypass
      ? { result: await run(request, query, question.params)(), outcome: 'BYPASS' }
      : q !== undefined
        ? await (cache as ResultCache).get(
            key(query, question.params),
            run(request, query, question.params),
            READS_CLOCK.test(query),
          )
        : // A bucketed window's clock reading is more than its end: only its last bucket is held.
          await ask(
            request,
            pipe.tags.includes(BUCKETED_WINDOW_TAG) ? undefined : await holdsUntil(nextUtcDay(now)),
          );
    return { answer: result, body: result.body, contentType: result.contentType, outcome };
  };

  return { prepare, overResult, answer };
}
