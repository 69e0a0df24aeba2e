/**
 * One answer from the answers of consecutive windows of the same pipe (bucket-window.ts):
 * their rows one after the other, cut at the request's limit. JSON keeps ClickHouse's
 * FORMAT JSON fields (meta, data, rows, rows_before_limit_at_least, statistics summed);
 * NDJSON is lines.
 */
import type { FormatName } from './formats.js';

interface JsonAnswer {
  meta: unknown[];
  data: unknown[];
  rows: number;
  rows_before_limit_at_least?: number;
  statistics?: { elapsed: number; rows_read: number; bytes_read: number };
}

export function concatAnswers(format: FormatName, bodies: string[], limit: number): string {
  if (format === 'ndjson') {
    const lines = bodies.flatMap((b) => b.split('\n').filter((l) => l.length > 0)).slice(0, limit);
    return lines.length ? `${lines.join('\n')}\n` : '';
  }
  if (format !== 'json') throw new Error(`concatAnswers: ${format} answers are not concatenated`);
  const answers = bodies.map((b) => JSON.parse(b) as JsonAnswer);
  const first = answers[0];
  if (!first) throw new Error('concatAnswers: no answers');
  const data = answers.flatMap((a) => a.data).slice(0, limit);
  const sum = (f: (a: JsonAnswer) => number | undefined) => answers.reduce((s, a) => s + (f(a) ?? 0), 0);
  const out: JsonAnswer = { meta: first.meta, data, rows: data.length };
  if (first.rows_before_limit_at_least !== undefined)
    out.rows_before_limit_at_least = sum((a) => a.rows_before_limit_at_least);
  if (first.statistics)
    out.statistics = {
      elapsed: sum((a) => a.statistics?.elapsed),
      rows_read: sum((a) => a.statistics?.rows_read),
      bytes_read: sum((a) => a.statistics?.bytes_read),
    };
  return JSON.stringify(out);
}

/**
 * concatAnswers, remembered per set of part answers: a moving window's three parts are
 * usually the same cached answers from request to request, and parsing and writing a 30-day
 * answer of every feature again for each request costs the route's thread about a millisecond.
 * Kept as UTF-8 bytes. Parts are told apart by identity (the result cache hands out its stored object on a hit);
 * entries go with their first part.
 */
export function concatMemo(): (
  format: FormatName,
  parts: ReadonlyArray<{ body: unknown }>,
  limit: number,
) => Uint8Array<ArrayBuffer> {
  const memo = new WeakMap<
    object,
    Array<{ parts: ReadonlyArray<object>; format: FormatName; limit: number; body: Uint8Array<ArrayBuffer> }>
  >();
  const utf8 = new TextEncoder();
  return (format, parts, limit) => {
    const first = parts[0];
    const seen = first ? (memo.get(first) ?? []) : [];
    const same = seen.find(
      (e) =>
        e.format === format &&
        e.limit === limit &&
        e.parts.length === parts.length &&
        e.parts.every((p, i) => p === parts[i]),
    );
    if (same) return same.body;
    // Kept encoded: writing the text out again for each request also costs.
    const body = utf8.encode(
      concatAnswers(
        format,
        parts.map((p) => String(p.body)),
        limit,
      ),
    ) as Uint8Array<ArrayBuffer>;
    if (first) memo.set(first, [...seen.slice(-3), { parts: [...parts], format, limit, body }]);
    return body;
  };
}
