import type { Reader } from '../../src/clickhouse/index.js';
import { type Pipe, renderPipe } from '../../src/pipes/index.js';

/**
 * One page of the events pipe as the route renders it, with extra query settings (e.g.
 * use_skip_indexes = 0 to read as if migration 014's index were not there): its rows and
 * how many rows ClickHouse read for it.
 */
export async function eventsPage(
  client: Reader,
  pipe: Pipe,
  params: Record<string, string>,
  settings: Record<string, string | number> = {},
): Promise<{ data: unknown[]; rowsRead: number }> {
  const { sql, params: bound } = renderPipe(pipe, new Map(Object.entries(params).map(([k, v]) => [k, [v]])));
  const res = await client.query({
    query: sql,
    query_params: bound,
    format: 'JSON',
    clickhouse_settings: settings as Record<string, never>,
  });
  const body = (await res.json()) as { data: unknown[]; statistics: { rows_read: number } };
  return { data: body.data, rowsRead: body.statistics.rows_read };
}
