import type { ClickHouseClient } from '@clickhouse/client';

// /v0/sql is read-only, but readonly=2 still lets a query read the host's files
// (file()), reach the network (url(), s3(), remote(), mysql(), ...) or write a file
// (INTO OUTFILE). We check the parsed query (EXPLAIN AST, ClickHouse's own parser, so
// comments and spacing cannot hide anything) and allow only our tables, subqueries and
// a few generator table functions.
const ALLOWED_TABLE_FUNCTIONS = new Set([
  'numbers',
  'numbers_mt',
  'zeros',
  'zeros_mt',
  'values',
  'generateSeries',
]);
// Scalar functions that read outside the database.
const DENIED_FUNCTIONS = new Set(['file', 'url']);

export class SqlRefused extends Error {
  override name = 'SqlRefused';
}

/** Throws SqlRefused naming what is not allowed; ClickHouse syntax errors surface as they are. */
export async function checkReadOnlySql(client: ClickHouseClient, sql: string): Promise<void> {
  const result = await client.query({ query: `EXPLAIN AST ${sql}`, format: 'JSONEachRow' });
  // Rows are {"explain": "..."}; chDB's connection hands them back as bare strings.
  const lines = (await result.json<{ explain: string } | string>()).map((row) =>
    typeof row === 'string' ? row : row.explain,
  );
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const depth = line.length - line.trimStart().length;
    const node = line.trim();
    // A literal directly under the statement is INTO OUTFILE's target.
    if (depth === 1 && node.startsWith('Literal ')) throw new SqlRefused('INTO OUTFILE is not allowed');
    const fn = /^Function (\w+)/.exec(node)?.[1];
    if (fn && DENIED_FUNCTIONS.has(fn)) throw new SqlRefused(`the function ${fn}() is not allowed`);
    if (node.startsWith('TableExpression')) {
      const child = (lines[i + 1] ?? '').trim();
      const tableFn = /^Function (\w+)/.exec(child)?.[1];
      if (tableFn && !ALLOWED_TABLE_FUNCTIONS.has(tableFn)) {
        throw new SqlRefused(
          `the table function ${tableFn}() is not allowed; query tables, subqueries or ${[...ALLOWED_TABLE_FUNCTIONS].join(', ')}`,
        );
      }
    }
  }
}
