/**
 * Windows that end now (issue 15). An answer over [start, now()] changes as the clock moves
 * only if rows lie between the moment it was computed and now: stored rows later than that
 * moment (ingest accepts timestamps ahead of the clock), or rows stored since (the next insert,
 * which the result cache sees anyway). So when no stored row is later than the moment the
 * answer was computed, it holds until the next insert or until its start moves (the next UTC
 * day for kpis' today, the next bucket for a timeline's last bucket).
 *
 * A pipe tagged "moving_end:<datasource>.<column>" declares that its answer reads the clock
 * only as such a window's end, and from its UTC day; <column> is the time the window bounds.
 * The latest <column> is asked once per insert generation (max of a partition-key column is
 * read from part metadata).
 */
import type { Reader } from '../clickhouse/reader.js';

export const MOVING_END_TAG = 'moving_end:';
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DAY = 86_400_000;

/** The datasource and column a pipe's moving end bounds, or undefined (no tag, or a malformed one). */
export function movingEnd(tags: readonly string[]): { table: string; column: string } | undefined {
  const tag = tags.find((t) => t.startsWith(MOVING_END_TAG));
  const [table, column, ...rest] = (tag?.slice(MOVING_END_TAG.length) ?? '').split('.');
  if (!table || !column || rest.length > 0 || !IDENT.test(table) || !IDENT.test(column)) return undefined;
  return { table, column };
}

export const nextUtcDay = (ms: number) => Math.floor(ms / DAY) * DAY + DAY;

/**
 * The latest stored time of a column (ms since the epoch; 0 for an empty table) and the insert
 * generation it holds for, remembered per generation. A read that an insert overlapped is not kept.
 */
export function latestRows(client: Reader, generation: () => number) {
  const known = new Map<string, { generation: number; latest: Promise<number> }>();
  return (table: string, column: string): { generation: number; latest: Promise<number> } => {
    const key = `${table}.${column}`;
    const g = generation();
    const hit = known.get(key);
    if (hit && hit.generation === g) return hit;
    const latest = (async () => {
      const result = await client.query({
        query: `SELECT toUnixTimestamp(max(${column})) AS t FROM ${table}`,
        format: 'JSONEachRow',
      });
      const rows = await result.json<{ t: number | string }>();
      return Number(rows[0]?.t ?? 0) * 1000;
    })();
    known.set(key, { generation: g, latest });
    latest.then(
      () => {
        if (generation() !== g && known.get(key)?.latest === latest) known.delete(key);
      },
      () => {
        if (known.get(key)?.latest === latest) known.delete(key);
      },
    );
    return { generation: g, latest };
  };
}
