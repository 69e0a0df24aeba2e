import type { Reader } from '../clickhouse/reader.js';
import { prepareUserSql, SqlRefused } from './guard.js';

/**
 * Tinybird's `q` parameter: the caller's SQL over a pipe's result, which it names `_`
 * (`SELECT count() FROM _`). The text passes the /v0/sql guard (one read statement, no
 * file or network access), and then more, because a pipe token may read that pipe only:
 * `_` is the only table it may name, nothing may read a table another way (IN <table>,
 * joinGet, dictionaries), and no SETTINGS clause may lift the pipe's limits.
 */

// Functions that read a table or dictionary named in their arguments, or the server's settings.
const READS_ELSEWHERE = /^(joinget\w*|dict\w*|hascolumnintable|getsetting|getmacro|getserverport)$/;
const IN_FUNCTIONS = /^(global)?(not)?(null)?in$/i;

/** The pipe's SQL with the caller's query over it, or SqlRefused. `reader` must be read-only. */
export async function sqlOverResult(reader: Reader, q: string, pipeSql: string): Promise<string> {
  const { statement, ast = [] } = await prepareUserSql(reader, q);
  checkOnlyResult(ast);
  // The pipe's result becomes the common table expression `_`, first in the WITH list.
  const body = /^WITH\s/i.test(statement) ? `, ${statement.replace(/^WITH\s+/i, '')}` : `\n${statement}`;
  return `WITH _ AS (\n${pipeSql}\n)${body}`;
}

function depth(line: string): number {
  return line.length - line.trimStart().length;
}

/** Exported for its test: refuses any AST that reaches beyond `_`. */
export function checkOnlyResult(ast: string[]): void {
  if (!/^SelectWithUnionQuery\b/.test(ast[0]?.trim() ?? ''))
    throw new SqlRefused('"q" must be one SELECT over the pipe\'s result, named _', 403);
  for (let i = 0; i < ast.length; i++) {
    const line = ast[i] ?? '';
    const node = line.trim();
    const table = /^TableIdentifier (\S+)/.exec(node)?.[1];
    if (table !== undefined && table !== '_')
      throw new SqlRefused(`"q" reads only the pipe's result, named _ (it names ${table})`, 403);
    if (/^Set\b/.test(node)) throw new SqlRefused('"q" cannot carry a SETTINGS clause', 403);
    const fn = /^Function (\w+)/.exec(node)?.[1];
    if (!fn) continue;
    if (READS_ELSEWHERE.test(fn.toLowerCase()))
      throw new SqlRefused(`the function ${fn}() is not allowed in "q"`, 403);
    if (IN_FUNCTIONS.test(fn) && inRightSideIsName(ast, i)) {
      throw new SqlRefused('"q" cannot use IN <table>: use IN (SELECT ... FROM _) or a list', 403);
    }
  }
}

/** Function in(a, b): b is the second node two levels below the function. */
function inRightSideIsName(ast: string[], at: number): boolean {
  const d = depth(ast[at] ?? '');
  let seen = 0;
  for (let j = at + 1; j < ast.length && depth(ast[j] ?? '') > d; j++) {
    if (depth(ast[j] ?? '') !== d + 2) continue;
    seen++;
    if (seen === 2) return /^Identifier\b/.test((ast[j] ?? '').trim());
  }
  return false;
}
