import { dateDiff } from './date-diff.js';
import { RequestError, TemplateRuntimeError } from './errors.js';
import { KNOWN_COLUMNS } from './known-columns.js';
import { TYPE_FUNCTIONS } from './param-types.js';
import type { Expr } from './template-parser.js';
import { type FunctionScope, ParamRef, Sql, unwrap, type Value } from './template-values.js';

type Call = Extract<Expr, { kind: 'call' }>;

/** Performance hints Tinybird accepts; they change nothing about the answer, so they render to nothing. */
const HINTS = new Set(['cache_ttl', 'max_threads', 'backend_hint', 'activate', 'max_execution_time']);

const SQL_AND_OPS: Record<string, string> = {
  '': '=',
  in: 'IN',
  not_in: 'NOT IN',
  gt: '>',
  lt: '<',
  gte: '>=',
  lte: '<=',
};

export const KNOWN_FUNCTIONS: ReadonlySet<string> = new Set([
  ...TYPE_FUNCTIONS,
  'Array',
  'defined',
  'column',
  'columns',
  'symbol',
  'sql_and',
  'error',
  'custom_error',
  'day_diff',
  'date_diff_in_seconds',
  'date_diff_in_minutes',
  'date_diff_in_hours',
  'date_diff_in_days',
  'split_to_array',
  'len',
  'enum_with_default',
  'sql_unescape',
  'tb_secret',
  'tb_var',
  ...HINTS,
]);

/** Splits a sql_and keyword into column and operator: product_version__not_in -> [product_version, NOT IN]. */
export function sqlAndKey(key: string): { column: string; op: string } | undefined {
  const m = key.match(/^(.+?)(?:__(in|not_in|gt|lt|gte|lte))?$/);
  const column = m?.[1];
  const op = SQL_AND_OPS[m?.[2] ?? ''];
  return column && op ? { column, op } : undefined;
}

/**
 * An identifier from a request or template, allowed only if it is a column of the tables the
 * pipe reads (or one of its output names): `allowed` comes from system.columns at load.
 */
function identifier(value: Value, what: string, allowed: ReadonlySet<string> = KNOWN_COLUMNS): Sql {
  const name = unwrap(value);
  if (typeof name !== 'string' || !allowed.has(name)) {
    const shown = typeof name === 'string' ? `"${name.slice(0, 40)}"` : String(name);
    throw new RequestError(
      `${what}: ${shown} is not a known column. Allowed: ${[...allowed].sort().join(', ')}`,
    );
  }
  return new Sql(`\`${name}\``);
}

const truthyArg = (v: Value) => v === true || v === 1 || v === 'True' || v === 'true';

/** Evaluates a function call in a template. Unknown names are rejected at load time. */
export function callFunction(r: FunctionScope, e: Call): Value {
  const arg = (i: number, kw?: string): Value => {
    const x = e.args[i] ?? (kw ? e.kwargs[kw] : undefined);
    return x ? r.eval(x, e.line) : null;
  };
  if (TYPE_FUNCTIONS.has(e.fn) || e.fn === 'Array') return r.typed(e);
  if (HINTS.has(e.fn)) return new Sql('');
  switch (e.fn) {
    case 'defined':
      return r.isDefined(e.args[0], e.line);
    case 'column':
    case 'symbol': {
      const v = unwrap(arg(0));
      const chosen = v === null || v === '' ? arg(1, 'default') : v;
      const name = e.args[0]?.kind === 'name' ? `parameter "${e.args[0].name}"` : `${e.fn}()`;
      return identifier(chosen, name, r.state.columns);
    }
    case 'columns': {
      const v = unwrap(arg(0));
      const chosen = v === null || v === '' ? unwrap(arg(1, 'default')) : v;
      const list = Array.isArray(chosen)
        ? chosen.map((x) => String(unwrap(x)))
        : String(chosen ?? '').split(',');
      const name = e.args[0]?.kind === 'name' ? `parameter "${e.args[0].name}"` : 'columns()';
      const parts = list.map((c) => identifier(c.trim(), name, r.state.columns).text);
      if (parts.length === 0) throw new RequestError(`${name}: no columns given`);
      return new Sql(parts.join(', '));
    }
    case 'sql_and': {
      const parts: string[] = [];
      for (const [key, x] of Object.entries(e.kwargs)) {
        const parsed = sqlAndKey(key);
        if (!parsed) throw new TemplateRuntimeError(`sql_and: bad argument "${key}"`, e.line);
        const v = r.eval(x, e.line);
        const u = unwrap(v);
        // Tinybird skips conditions whose parameter was not given.
        if (u === null || (Array.isArray(u) && u.length === 0)) continue;
        const isList = parsed.op === 'IN' || parsed.op === 'NOT IN';
        if (isList !== Array.isArray(u)) {
          throw new TemplateRuntimeError(
            `sql_and: ${key} needs ${isList ? 'an Array(...)' : 'a single value'}`,
            e.line,
          );
        }
        const col = identifier(parsed.column, 'sql_and', r.state.columns).text;
        parts.push(`${col} ${parsed.op} ${r.output(v, e.line)}`);
      }
      return new Sql(parts.length ? parts.join(' AND ') : '1');
    }
    case 'error':
    case 'custom_error': {
      const code = Number(unwrap(arg(1, 'code')) ?? 400);
      let message: string;
      if (e.fn === 'custom_error' && e.args[0]?.kind === 'dict') {
        const obj: Record<string, unknown> = {};
        for (const [k, v] of e.args[0].entries)
          obj[String(unwrap(r.eval(k, e.line)))] = unwrap(r.eval(v, e.line));
        message = String(obj.error ?? JSON.stringify(obj));
      } else message = String(unwrap(arg(0)) ?? 'error');
      const status = [400, 403, 404, 408, 422, 429].includes(code) ? (code as 400) : 400;
      throw new RequestError(message, status);
    }
    case 'day_diff':
    case 'date_diff_in_days':
    case 'date_diff_in_hours':
    case 'date_diff_in_minutes':
    case 'date_diff_in_seconds': {
      const text = (i: number, kw: string) => {
        const v = unwrap(arg(i, kw));
        return v === null ? undefined : String(v);
      };
      return dateDiff(e.fn, unwrap(arg(0)), unwrap(arg(1)), {
        format: e.fn === 'day_diff' ? undefined : text(2, 'date_format'),
        backup: text(4, 'backup_date_format'),
        noneIfError: truthyArg(unwrap(arg(5, 'none_if_error'))),
      });
    }
    case 'enum_with_default': {
      // enum_with_default(value, ['a', 'b'], 'a'): the value when it is one of the allowed
      // ones, else the default; a bound value stays bound.
      const v = arg(0);
      const allowed = unwrap(arg(1, 'enum'));
      if (!Array.isArray(allowed))
        throw new TemplateRuntimeError(
          'enum_with_default(value, [allowed...], default) needs a list',
          e.line,
        );
      const u = unwrap(v);
      return allowed.some((a) => unwrap(a) === u) ? v : arg(2, 'default');
    }
    case 'sql_unescape':
      // Tinybird escapes %, _ and the like in the literal it splices and sql_unescape undoes
      // it for the given character (LIKE patterns). Values here are bound, never escaped:
      // a % in a bound value already keeps its LIKE meaning, so the value passes as is.
      return arg(0);
    case 'tb_secret':
    case 'tb_var': {
      const key = String(unwrap(arg(0)) ?? '');
      const secret = r.state.secrets?.get(key);
      if (secret !== undefined) return new ParamRef(`secret_${key.replace(/\W/g, '_')}`, 'String', secret);
      const fallback = arg(1, 'default');
      if (unwrap(fallback) !== null) return fallback;
      throw new RequestError(
        `Cannot access secret '${key}': set TB_SECRET_${key} in the environment of the server`,
      );
    }
    case 'split_to_array': {
      const v = unwrap(arg(0));
      const src = v === null || v === '' ? unwrap(arg(1, 'default')) : v;
      if (Array.isArray(src)) return src;
      const sep = String(unwrap(arg(2, 'separator')) ?? ',');
      return String(src ?? '')
        .split(sep)
        .map((s) => s.trim())
        .filter((s) => s !== '');
    }
    case 'len': {
      const v = unwrap(arg(0));
      return Array.isArray(v) || typeof v === 'string' ? v.length : 0;
    }
  }
  throw new TemplateRuntimeError(`unknown function ${e.fn}()`, e.line);
}
