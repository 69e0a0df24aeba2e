import type { Reader } from '../../src/clickhouse/index.js';
import { readText } from '../../src/clickhouse/read-text.js';
import { type Pipe, renderPipe } from '../../src/pipes/index.js';

/**
 * The rows of one page of the events pipe as the route renders it (FORMAT JSON), with extra
 * query settings (e.g. use_skip_indexes = 0: read as if migration 014's index were not there).
 */
export async function eventsPage(
  client: Reader,
  pipe: Pipe,
  params: Record<string, string>,
  settings: Record<string, number> = {},
): Promise<unknown[]> {
  const { sql, params: bound } = renderPipe(pipe, new Map(Object.entries(params).map(([k, v]) => [k, [v]])));
  const res = await client.exec({
    query: `${sql}\nFORMAT JSON`,
    query_params: bound,
    clickhouse_settings: settings,
  });
  return (JSON.parse(await readText(res.stream)) as { data: unknown[] }).data;
}
