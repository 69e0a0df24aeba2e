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
