/**
 * A request of a pipe with a batch node (tag coalesce, compile.ts) as a job for the read
 * coalescer: which requests may share a batch, its key and limit, and how to run it alone or
 * in a batch. Only a request naming exactly one key value that the batch's Array(String) reads
 * back unchanged (no comma: Array values are split on commas; not empty) qualifies.
 */
import { type Pipe, renderPipe } from './compile.js';
import type { RequestParams } from './params.js';
import type { LookupJob } from './read-coalescer.js';

export interface LookupContext {
  secrets?: ReadonlyMap<string, string>;
  /** SQL of a pipe rendering -> the query run (SETTINGS, FORMAT JSON). */
  toQuery: (sql: string) => string;
  /** Runs a query: its body. */
  run: (query: string, params: Record<string, unknown>) => Promise<string>;
}

export function lookupJob(
  pipe: Pipe,
  request: RequestParams,
  solo: { query: string; params: Record<string, unknown> },
  ctx: LookupContext,
): LookupJob | undefined {
  const batch = pipe.batch;
  const values = batch && request.get(batch.param);
  if (!batch || values?.length !== 1) return undefined;
  const key = values[0] as string;
  if (key === '' || key.includes(',')) return undefined;
  const rest: RequestParams = new Map(request);
  rest.delete(batch.param);
  const spec = pipe.params.find((s) => s.name === 'limit');
  const limit = Number(request.get('limit')?.[0] ?? spec?.default ?? Number.NaN);
  const sorted = [...rest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    pipe: pipe.name,
    group: `${pipe.name}\n${solo.query}\n${JSON.stringify(sorted)}`,
    key,
    limit: Number.isFinite(limit) ? limit : Number.POSITIVE_INFINITY,
    solo: () => ctx.run(solo.query, solo.params),
    batch: (keys) => {
      const r = renderPipe(
        { ...pipe, endpoint: batch.node, params: batch.params },
        new Map([...rest, [batch.param, keys]]),
        { secrets: ctx.secrets },
      );
      return ctx.run(ctx.toQuery(r.sql), r.params);
    },
  };
}
