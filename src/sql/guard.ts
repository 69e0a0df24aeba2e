import { clickhouseCode } from '../clickhouse/errors.js';
import { readText } from '../clickhouse/read-text.js';
import type { ExecQuery, Reader } from '../clickhouse/reader.js';

/**
 * The guard for SQL a user wrote (/v0/sql). It never executes the user's text: ClickHouse's
 * own parser formats it as a bound string value (formatQuery), which refuses a second
 * statement however it is spelled (comments, newlines, semicolons inside strings), and only
 * that single formatted statement is inspected (EXPLAIN AST) and later run. Every step runs
 * on a read-only reader session, so even a parser disagreement could not write anything.
 */

// Statement kinds (the root of EXPLAIN AST) that only read.
const READ_STATEMENTS =
  /^(SelectWithUnionQuery|SelectIntersectExceptQuery|Explain|DescribeQuery|Show\w*|Exists\w*)\b/;
// readonly still lets a query read the host's files (file()), reach the network (url(),
// s3(), remote(), mysql(), ...) or write a file (INTO OUTFILE): only our tables,
// subqueries and a few generator table functions are allowed.
const ALLOWED_TABLE_FUNCTIONS = new Set([
  'numbers',
  'numbers_mt',
  'zeros',
  'zeros_mt',
  'values',
  'generateseries',
]);
// UNKNOWN_QUERY_PARAMETER, BAD_QUERY_PARAMETER, and a value that does not parse as its type.
const PARAMETER_ERRORS = new Set([456, 457, 6, 26, 27, 38, 41, 53, 72, 130]);
// Scalar functions that read outside the database.
const DENIED_FUNCTIONS = new Set(['file', 'url']);

export class SqlRefused extends Error {
  override name = 'SqlRefused';
  /** 400: not one parseable statement. 403: a statement or function that is not allowed. */
  constructor(
    message: string,
    readonly status: 400 | 403,
  ) {
    super(message);
  }
}

export interface UserStatement {
  /** The one statement as ClickHouse formatted it: no comments, no FORMAT clause. */
  statement: string;
  /** The FORMAT the text asked for, if any. */
  format?: string;
  /** EXPLAIN AST's lines for the statement, one node each, indented by depth. */
  ast?: string[];
  /** What it reads, for scoped tokens (DATASOURCES:READ): see TableReads. */
  reads: TableReads;
}

export interface TableReads {
  /** True for a SELECT (SHOW, DESCRIBE, EXPLAIN, EXISTS are false). */
  select: boolean;
  /** Every table named in a FROM or JOIN (subqueries included), as written (db.table kept). */
  tables: string[];
  /** True when a table is reached another way (x IN table, dictGet, joinGet): only ADMIN may. */
  opaque: boolean;
}

/**
 * Turns user text into exactly one read-only statement, or throws SqlRefused. `reader` must be
 * read-only. `params` are the values of its {name:Type} placeholders, if it has any: ClickHouse
 * substitutes them before it can explain the statement.
 */
export async function prepareUserSql(
  reader: Reader,
  text: string,
  params?: Record<string, string>,
): Promise<UserStatement> {
  // A NUL byte could end the text early in a C string on its way to the parser.
  if (text.includes('\0')) throw new SqlRefused('The query contains a NUL byte', 400);
  const formatted = await formatOneStatement(reader, text);
  const { statement, format } = splitFormat(formatted);
  if (/^INTO OUTFILE /m.test(statement)) throw new SqlRefused('INTO OUTFILE is not allowed', 403);
  const ast = await explainAst(reader, statement, params);
  checkAst(ast);
  return { statement, format, ast, reads: tableReads(ast) };
}

/**
 * prepareUserSql that remembers the verdicts of the last accepted texts (oldest out first;
 * refusals are not kept, so a transient error is never remembered): a verdict depends on
 * the text alone (two parses, no data), and dashboards send the same texts again and again,
 * so a repeated query costs one ClickHouse query instead of three.
 */
export function cachedUserSqlGuard(maxEntries = 1000, maxTextBytes = 64 * 1024) {
  const accepted = new Map<string, UserStatement>();
  return async (reader: Reader, text: string, params?: Record<string, string>): Promise<UserStatement> => {
    const known = accepted.get(text);
    if (known) return known;
    const verdict = await prepareUserSql(reader, text, params);
    if (text.length <= maxTextBytes) {
      accepted.set(text, verdict);
      if (accepted.size > maxEntries) accepted.delete(accepted.keys().next().value as string);
    }
    return verdict;
  };
}

async function formatOneStatement(reader: Reader, text: string): Promise<string> {
  try {
    const rows = await tsvRows(reader, {
      query: 'SELECT formatQuery({sql:String}) FORMAT TabSeparated',
      query_params: { sql: text },
    });
    if (rows.length !== 1 || rows[0] === undefined) throw new Error('formatQuery returned no text');
    return rows[0];
  } catch (err) {
    const message = (err as Error).message ?? '';
    if (/Multi-statements are not allowed/i.test(message)) {
      throw new SqlRefused('Send exactly one SQL statement per request: this text holds more than one', 400);
    }
    if (/Empty query/i.test(message)) throw new SqlRefused('The query is empty', 400);
    if (/SYNTAX_ERROR|Syntax error/i.test(message) || (err as { code?: string }).code === '62') {
      // Drop ClickHouse's echo of our formatQuery() wrapper: the user never wrote it.
      const first = (message.split('\n')[0] ?? '').replace(/\s*:?\s*In scope SELECT formatQuery[\s\S]*$/, '');
      throw new SqlRefused(`[Error] ${first}`, 400);
    }
    throw err;
  }
}

/** formatQuery puts a FORMAT clause on a line of its own (newlines inside literals are escaped). */
function splitFormat(formatted: string): Omit<UserStatement, 'reads'> {
  const lines = formatted.split('\n');
  const formatLines = lines.filter((l) => /^FORMAT /.test(l));
  if (formatLines.length > 1) throw new SqlRefused('More than one FORMAT clause', 400);
  const [formatLine] = formatLines;
  if (!formatLine) return { statement: formatted };
  return {
    statement: lines.filter((l) => l !== formatLine).join('\n'),
    format: formatLine
      .slice('FORMAT '.length)
      .trim()
      .replace(/^`(.*)`$/, '$1'),
  };
}

async function explainAst(
  reader: Reader,
  statement: string,
  params?: Record<string, string>,
): Promise<string[]> {
  try {
    // No FORMAT clause here: it would belong to the explained statement, not to EXPLAIN.
    return await tsvRows(reader, {
      query: `EXPLAIN AST ${statement}`,
      query_params: params && Object.keys(params).length > 0 ? params : undefined,
      clickhouse_settings: { default_format: 'TabSeparated' },
    });
  } catch (err) {
    // A missing or malformed parameter value is the caller's mistake, not a refused statement.
    const code = clickhouseCode(err);
    if (code !== undefined && PARAMETER_ERRORS.has(code)) throw err;
    // What ClickHouse cannot explain (SYSTEM, ...) is not a query: not run either.
    throw new SqlRefused(
      `only SELECT, WITH, SHOW, DESCRIBE, EXISTS and EXPLAIN statements are allowed (${((err as Error).message ?? '').split('\n')[0]})`,
      403,
    );
  }
}

/** Runs a query whose answer is TabSeparated text, one value per row, and unescapes each row. */
async function tsvRows(reader: Reader, params: ExecQuery): Promise<string[]> {
  const text = await readText((await reader.exec(params)).stream);
  return text
    .split('\n')
    .slice(0, -1)
    .map((row) => row.replace(/\\(.)/g, (_, c: string) => TSV_ESCAPES[c] ?? c));
}

const TSV_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '0': '\0' };

function checkAst(lines: string[]): void {
  const root = (lines[0] ?? '').trim();
  if (!READ_STATEMENTS.test(root)) {
    throw new SqlRefused(
      `only SELECT, WITH, SHOW, DESCRIBE, EXISTS and EXPLAIN statements are allowed (got ${root.split(' ')[0] || 'nothing'})`,
      403,
    );
  }
  const isSelect = root.startsWith('Select');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const depth = line.length - line.trimStart().length;
    const node = line.trim();
    // A literal directly under a SELECT statement is INTO OUTFILE's target.
    if (isSelect && depth === 1 && node.startsWith('Literal ')) {
      throw new SqlRefused('INTO OUTFILE is not allowed', 403);
    }
    // Function names compare case-insensitively, as ClickHouse resolves some of them.
    const fn = /^Function (\w+)/.exec(node)?.[1]?.toLowerCase();
    if (fn && DENIED_FUNCTIONS.has(fn)) throw new SqlRefused(`the function ${fn}() is not allowed`, 403);
    if (node.startsWith('TableExpression')) {
      const child = (lines[i + 1] ?? '').trim();
      const tableFn = /^Function (\w+)/.exec(child)?.[1];
      if (tableFn && !ALLOWED_TABLE_FUNCTIONS.has(tableFn.toLowerCase())) {
        throw new SqlRefused(
          `the table function ${tableFn}() is not allowed; query tables, subqueries or ${[...ALLOWED_TABLE_FUNCTIONS].join(', ')}`,
          403,
        );
      }
    }
  }
}

// Functions that read a table named by an argument rather than in FROM.
const TABLE_READING_FUNCTIONS = /^(dict\w*|joinGet\w*|hasColumnInTable)$/i;
const IN_FUNCTIONS = /^(global)?(not)?(null)?in$/i;

/** The tables an EXPLAIN AST reads, for checking a scoped token's DATASOURCES:READ. */
export function tableReads(lines: string[]): TableReads {
  const depthOf = (l: string) => l.length - l.trimStart().length;
  const tables: string[] = [];
  let opaque = false;
  for (let i = 0; i < lines.length; i++) {
    const node = (lines[i] ?? '').trim();
    const table = /^TableIdentifier (\S+)/.exec(node)?.[1];
    if (table) tables.push(table.replace(/`/g, ''));
    const fn = /^Function (\w+)/.exec(node)?.[1];
    if (!fn) continue;
    if (TABLE_READING_FUNCTIONS.test(fn)) opaque = true;
    if (IN_FUNCTIONS.test(fn)) {
      // Arguments sit two levels below the function (under its ExpressionList): a bare
      // identifier as the second one is a table name (x IN some_table).
      const argDepth = depthOf(lines[i] ?? '') + 2;
      const args: string[] = [];
      for (let j = i + 1; j < lines.length && depthOf(lines[j] ?? '') > argDepth - 2; j++) {
        if (depthOf(lines[j] ?? '') === argDepth) args.push((lines[j] ?? '').trim());
      }
      if (args[1]?.startsWith('Identifier ')) opaque = true;
    }
  }
  return { select: (lines[0] ?? '').trim().startsWith('Select'), tables, opaque };
}
