/**
 * One FORMAT JSON answer of a pipe's batch node (read-coalescer.ts), cut back into the answer
 * each member would have had alone. Why so careful: a coalesced caller must not be able to
 * tell, so each answer keeps the solo answer's shape (learned from a solo answer of the same
 * question: its meta and which fields it has); where the batch cannot say what the solo query
 * would have (a per-key LIMIT reached: rows_before_limit_at_least is unknown; an integer past
 * 2^53 that JSON.parse would round) the member is answered alone instead (undefined here).
 */

export interface SoloShape {
  meta: Array<{ name: string; type: string }>;
  rowsBeforeLimit: boolean;
  statistics: boolean;
}

interface JsonAnswer {
  meta: Array<{ name: string; type: string }>;
  data: Array<Record<string, unknown>>;
  rows: number;
  rows_before_limit_at_least?: number;
  statistics?: unknown;
}

/** What a solo answer looks like, or undefined when it is not a FORMAT JSON answer. */
export function soloShape(body: string): SoloShape | undefined {
  try {
    const a = JSON.parse(body) as Partial<JsonAnswer>;
    if (!Array.isArray(a.meta) || !Array.isArray(a.data)) return undefined;
    return {
      meta: a.meta.map(({ name, type }) => ({ name, type })),
      rowsBeforeLimit: a.rows_before_limit_at_least !== undefined,
      statistics: a.statistics !== undefined,
    };
  } catch {
    return undefined;
  }
}

export const BATCH_KEY = '__key';
/** A member whose rows reached its LIMIT: its solo query's rows_before_limit_at_least is unknown. */
export const AT_LIMIT = Symbol('at limit');

const exact = (v: unknown) => typeof v !== 'number' || !Number.isInteger(v) || Number.isSafeInteger(v);

/**
 * Each member's answer (by its key and its LIMIT), in the members' order; undefined or
 * AT_LIMIT for a member the batch cannot answer as its solo query would. Statistics are the batch's.
 */
export function splitBatch(
  body: string,
  members: ReadonlyArray<{ key: string; limit: number }>,
  shape: SoloShape,
): Array<string | typeof AT_LIMIT | undefined> {
  const batch = JSON.parse(body) as JsonAnswer;
  const [first, ...meta] = batch.meta;
  const sameColumns =
    first?.name === BATCH_KEY &&
    meta.length === shape.meta.length &&
    meta.every((m, i) => m.name === shape.meta[i]?.name && m.type === shape.meta[i]?.type);
  if (!sameColumns) return members.map(() => undefined);
  const byKey = new Map<string, Array<Record<string, unknown>>>();
  const unsafe = new Set<string>();
  for (const row of batch.data) {
    const key = String(row[BATCH_KEY]);
    delete row[BATCH_KEY];
    if (!Object.values(row).every(exact)) unsafe.add(key);
    const rows = byKey.get(key) ?? [];
    rows.push(row);
    byKey.set(key, rows);
  }
  return members.map(({ key, limit }) => {
    const data = byKey.get(key) ?? [];
    if (unsafe.has(key) || data.length > limit) return undefined;
    if (shape.rowsBeforeLimit && data.length >= limit) return AT_LIMIT;
    const out: Partial<JsonAnswer> = { meta: shape.meta, data, rows: data.length };
    // Under its LIMIT, the solo query's rows before the limit are its rows.
    if (shape.rowsBeforeLimit) out.rows_before_limit_at_least = data.length;
    if (shape.statistics) out.statistics = batch.statistics;
    return JSON.stringify(out);
  });
}
