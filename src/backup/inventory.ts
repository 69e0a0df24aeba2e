import type { Reader } from '../clickhouse/reader.js';

export interface TableEntry {
  name: string;
  engine: string;
  /** Exact row count (count()); absent for views, which hold no rows of their own. */
  rows?: number;
}

const HOLDS_NO_ROWS = new Set(['MaterializedView', 'View', 'LiveView', 'WindowView']);

/**
 * Every table and view of the service's database (feature_events, the quarantine, the
 * rollups, the migration ledger, project datasources and their views), with exact row counts:
 * what a backup must hold and what a restore must give back, table by table.
 */
export async function inventory(client: Reader): Promise<TableEntry[]> {
  const rs = await client.query({
    query:
      'SELECT name, engine FROM system.tables WHERE database = currentDatabase() AND NOT is_temporary ORDER BY name',
    format: 'JSONEachRow',
  });
  const tables = await rs.json<{ name: string; engine: string }>();
  const out: TableEntry[] = [];
  for (const t of tables) {
    if (HOLDS_NO_ROWS.has(t.engine)) {
      out.push(t);
      continue;
    }
    const c = await client.query({
      query: `SELECT count() AS n FROM \`${t.name.replace(/`/g, '``')}\``,
      format: 'JSONEachRow',
    });
    const [row] = await c.json<{ n: string }>();
    out.push({ ...t, rows: Number(row?.n ?? 0) });
  }
  return out;
}

/** Materialized views whose target table is missing: a view that would drop every insert. */
export async function orphanedViews(client: Reader): Promise<string[]> {
  const rs = await client.query({
    query: `SELECT name AS view, extract(create_table_query, {re:String}) AS target
            FROM system.tables WHERE database = currentDatabase() AND engine = 'MaterializedView'`,
    // CREATE MATERIALIZED VIEW db.v TO db.target (…): the target's name, with or without db. and backquotes.
    query_params: { re: 'TO\\s+(?:`?\\w+`?\\.)?`?(\\w+)`?' },
    format: 'JSONEachRow',
  });
  const views = await rs.json<{ view: string; target: string }>();
  const names = await client.query({
    query: 'SELECT name FROM system.tables WHERE database = currentDatabase()',
    format: 'JSONEachRow',
  });
  const present = new Set((await names.json<{ name: string }>()).map((t) => t.name));
  return views.filter((v) => v.target && !present.has(v.target)).map((v) => `${v.view} -> ${v.target}`);
}
