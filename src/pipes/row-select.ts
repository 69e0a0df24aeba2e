/**
 * Parameters that only pick rows (issue 15). A pipe tagged "select_rows:<param>" declares that
 * <param> filters its answer by equality (an Array parameter: membership) on the output column
 * of the same name, and changes nothing else in any row: kpis?feature_id=x is the row of x
 * in the answer for all features. Why: 32 clients asking about 40 features are 41 distinct
 * questions to the cache, each a full query when it misses (and each second, for answers that
 * read the clock); answered as a selection they are one query, kept once.
 *
 * The request without its selectors (and without limit) is asked instead, and its rows are
 * filtered here. When that answer was cut by its own LIMIT, or no row matches (an unknown
 * value: a pipe may answer with a row of zeros), the caller asks the request as sent.
 */
import type { FormatName } from './formats.js';
import { convert, type ParamSpec, type RequestParams } from './params.js';

export const SELECT_ROWS_TAG = 'select_rows:';

export interface Selection {
  /** The request without the selectors and without limit: the answer rows are picked from. */
  base: RequestParams;
  /** Column name -> values its rows may have. */
  pick: Map<string, Set<string>>;
  limit: number;
  /** Rows the base answer stops at (its limit's default): a base that long may have been cut. */
  baseLimit: number;
}

/** The request as a selection over a wider one, or undefined when it names no selector. */
export function splitSelection(
  tags: readonly string[],
  specs: readonly ParamSpec[],
  request: RequestParams,
): Selection | undefined {
  const names = tags.filter((t) => t.startsWith(SELECT_ROWS_TAG)).map((t) => t.slice(SELECT_ROWS_TAG.length));
  const pick = new Map<string, Set<string>>();
  for (const name of names) {
    const raws = request.get(name);
    if (!raws) continue;
    const declared = specs.filter((s) => s.name === name);
    const spec = declared[0];
    // Only a String parameter declared one way: its bound value is what the column holds.
    if (spec?.type !== 'String' || declared.some((s) => s.isArray !== spec.isArray)) return undefined;
    if (!spec.isArray && raws.length !== 1) return undefined;
    const value = convert(spec, raws);
    const values = Array.isArray(value) ? value.map(String) : [String(value)];
    // An empty value may mean "no filter" to the template: not a selection.
    if (value === undefined || values.length === 0 || values.includes('')) return undefined;
    pick.set(name, new Set(values));
  }
  if (pick.size === 0) return undefined;
  const base: RequestParams = new Map(request);
  for (const name of pick.keys()) base.delete(name);
  base.delete('limit');
  const finite = (v: unknown) => (Number.isFinite(Number(v)) ? Number(v) : Number.POSITIVE_INFINITY);
  const baseLimit = finite(specs.find((s) => s.name === 'limit')?.default ?? Number.NaN);
  const sent = request.get('limit')?.[0];
  return { base, pick, limit: sent === undefined ? baseLimit : finite(sent), baseLimit };
}

interface JsonAnswer {
  meta: unknown[];
  data: Array<Record<string, unknown>>;
  rows: number;
  rows_before_limit_at_least?: number;
  statistics?: unknown;
}

const matches = (row: Record<string, unknown>, pick: Map<string, Set<string>>) => {
  for (const [column, values] of pick) if (!values.has(String(row[column]))) return false;
  return true;
};

/**
 * The selected rows of a whole answer, in its order, cut at limit; undefined when the whole
 * answer may be incomplete (cut by its LIMIT) or none matches: then only the query can tell.
 */
export function selectRows(
  format: FormatName,
  body: string,
  selection: Pick<Selection, 'pick' | 'limit' | 'baseLimit'>,
): string | undefined {
  const { pick, limit, baseLimit } = selection;
  if (format === 'ndjson') {
    const rows = body.split('\n').filter((l) => l.length > 0);
    // NDJSON carries no row count: an answer as long as its LIMIT may have been cut.
    if (rows.length >= baseLimit) return undefined;
    const kept = rows.filter((l) => matches(JSON.parse(l) as Record<string, unknown>, pick));
    if (kept.length === 0) return undefined;
    return `${kept.slice(0, limit).join('\n')}\n`;
  }
  if (format !== 'json') return undefined;
  const whole = JSON.parse(body) as JsonAnswer;
  const cut = whole.rows_before_limit_at_least ?? whole.rows;
  if (cut > whole.rows || whole.rows >= baseLimit) return undefined;
  const kept = whole.data.filter((row) => matches(row, pick));
  if (kept.length === 0) return undefined;
  const data = kept.slice(0, limit);
  const out: JsonAnswer = { meta: whole.meta, data, rows: data.length };
  if (whole.rows_before_limit_at_least !== undefined) out.rows_before_limit_at_least = kept.length;
  if (whole.statistics !== undefined) out.statistics = whole.statistics;
  return JSON.stringify(out);
}
