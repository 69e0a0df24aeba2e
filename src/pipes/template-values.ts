/**
 * What a template evaluates to, and the state of one render: shared by the renderer
 * (render.ts) and the template functions (functions.ts), which call back into the renderer
 * only through FunctionScope.
 */
import type { ParamValue } from './param-types.js';
import type { ParamSpec, RequestParams } from './params.js';
import type { Expr } from './template-parser.js';

/** Trusted SQL produced by the template itself (sql_and, column): emitted as is. */
export class Sql {
  constructor(readonly text: string) {}
}

/** A typed value on its way to a `{p_name:Type}` placeholder. value undefined = not given. */
export class ParamRef {
  constructor(
    readonly name: string,
    readonly chType: string,
    readonly value: ParamValue | undefined,
    readonly spec?: ParamSpec,
  ) {}
}

export type Value = ParamValue | null | Sql | ParamRef | Value[];

/** What rendering produces: SQL text with placeholders, and the values bound to them. */
export interface Rendered {
  sql: string;
  params: Record<string, unknown>;
  /** Anonymous placeholders used so far (a pipe read by another continues the count). */
  anon?: number;
}

export interface RenderState {
  request: RequestParams;
  typed: Map<string, ParamValue>;
  specs: ParamSpec[];
  params: Record<string, unknown>;
  /** placeholder name -> ClickHouse type, so one name never gets two types. */
  bound: Map<string, string>;
  anon: number;
  /** Names column(), columns() and sql_and may use: the pipe's tables' real columns (default: the shipped schema). */
  columns?: ReadonlySet<string>;
  /** tb_secret() values, by name. */
  secrets?: ReadonlyMap<string, string>;
}

export function newState(
  request: RequestParams,
  typed: Map<string, ParamValue>,
  specs: ParamSpec[],
  extra: Pick<RenderState, 'columns' | 'secrets'> = {},
): RenderState {
  return { request, typed, specs, params: {}, bound: new Map(), anon: 0, ...extra };
}

export const unwrap = (v: Value): Value => (v instanceof ParamRef ? (v.value ?? null) : v);

export function truthy(v: Value): boolean {
  const u = unwrap(v);
  if (u === null || u === false || u === 0 || u === '' || u === 0n) return false;
  if (Array.isArray(u)) return u.length > 0;
  if (u instanceof Sql) return u.text.trim() !== '';
  return true;
}

/** Binds a value and returns its placeholder; a value never becomes SQL text. */
export function bind(state: RenderState, name: string, chType: string, value: unknown): string {
  let key = `p_${name}`;
  for (let n = 2; state.bound.has(key) && state.bound.get(key) !== chType; n++) key = `p_${name}_${n}`;
  state.bound.set(key, chType);
  state.params[key] = typeof value === 'bigint' ? value.toString() : value;
  return `{${key}:${chType}}`;
}

/** What a template function may ask of the renderer evaluating it. */
export interface FunctionScope {
  readonly state: RenderState;
  eval(e: Expr, line: number): Value;
  output(v: Value, line: number): string;
  isDefined(e: Expr | undefined, line: number): boolean;
  typed(e: Extract<Expr, { kind: 'call' }>): ParamRef;
}
