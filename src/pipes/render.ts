import { RequestError, TemplateRuntimeError } from './errors.js';
import { callFunction } from './functions.js';
import { inferChType, type ParamValue, paramType, splitArrayValues } from './param-types.js';
import { convert, invalidMessage, type ParamSpec, specKey } from './params.js';
import type { Expr, TemplateNode } from './template-parser.js';
import {
  bind,
  type FunctionScope,
  ParamRef,
  type RenderState,
  Sql,
  truthy,
  unwrap,
  type Value,
} from './template-values.js';

export {
  newState,
  ParamRef,
  type Rendered,
  type RenderState,
  Sql,
  unwrap,
  type Value,
} from './template-values.js';

function toSql(v: Value, state: RenderState, line: number): string {
  if (v instanceof Sql) return v.text;
  if (v instanceof ParamRef) {
    if (v.value === undefined) {
      const ex = v.spec?.example ?? v.spec?.base.sample;
      throw new RequestError(
        `Missing parameter "${v.name}": this pipe needs it (${v.spec ? v.spec.base.name : v.chType})${ex ? `. Example: ${v.name}=${ex}` : ''}`,
      );
    }
    return bind(state, v.name, v.chType, v.value);
  }
  if (v === null) return 'NULL';
  if (Array.isArray(v) && v.some((x) => x instanceof Sql || x instanceof ParamRef || x === null)) {
    throw new TemplateRuntimeError('cannot output a list that mixes SQL and values', line);
  }
  return bind(state, `t${state.anon++}`, inferChType(v as ParamValue), v);
}

/** Evaluates template expressions and statements for one request. */
export class Renderer implements FunctionScope {
  private readonly scopes: Map<string, Value>[] = [new Map()];

  constructor(readonly state: RenderState) {}

  render(nodes: TemplateNode[]): string {
    let out = '';
    for (const n of nodes) {
      switch (n.kind) {
        case 'text':
          out += n.text;
          break;
        case 'output':
          out += this.output(this.eval(n.expr, n.line), n.line);
          break;
        case 'set':
          (this.scopes[this.scopes.length - 1] as Map<string, Value>).set(n.name, this.eval(n.expr, n.line));
          break;
        case 'if': {
          const branch = n.branches.find((b) => truthy(this.eval(b.test, n.line)));
          out += this.render(branch ? branch.body : n.otherwise);
          break;
        }
        case 'for': {
          const items = unwrap(this.eval(n.iter, n.line));
          if (!Array.isArray(items)) throw new TemplateRuntimeError('{% for %} needs a list', n.line);
          for (const item of items) {
            this.scopes.push(new Map([[n.name, item]]));
            out += this.render(n.body);
            this.scopes.pop();
          }
          break;
        }
      }
    }
    return out;
  }

  /** SQL for a value: trusted SQL as is, anything else as a bound placeholder. */
  output(v: Value, line: number): string {
    return toSql(v, this.state, line);
  }

  local(name: string): Value | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const s = this.scopes[i] as Map<string, Value>;
      if (s.has(name)) return s.get(name);
    }
    return undefined;
  }

  /** A bare name: a {% set %} variable, else the request's value (typed when declared). */
  lookup(name: string): Value {
    const l = this.local(name);
    if (l !== undefined) return l;
    const specs = this.state.specs.filter((s) => s.name === name);
    for (const s of specs) {
      const v = this.state.typed.get(specKey(s.name, s.type, s.isArray));
      if (v !== undefined) return v;
    }
    const raw = this.state.request.get(name);
    if (raw && raw.length > 0) return raw[0] as string;
    const withDefault = specs.find((s) => s.default !== undefined);
    return withDefault?.default ?? null;
  }

  isDefined(e: Expr | undefined, line: number): boolean {
    if (!e) return false;
    if (e.kind === 'name') {
      const l = this.local(e.name);
      if (l !== undefined) return truthy(l) || l === '' || l === 0 || l === false;
      return (this.state.request.get(e.name)?.length ?? 0) > 0;
    }
    return unwrap(this.eval(e, line)) !== null;
  }

  /** Typed-parameter function: String(name, default, ...), Array(name, 'Type', default). */
  typed(e: Extract<Expr, { kind: 'call' }>): ParamRef {
    const isArray = e.fn === 'Array';
    const typeName = isArray
      ? String(unwrap(this.eval(e.args[1] ?? { kind: 'lit', value: 'String' }, e.line)))
      : e.fn;
    const base = paramType(typeName);
    if (!base) throw new TemplateRuntimeError(`unknown type "${typeName}"`, e.line);
    const chType = isArray ? `Array(${base.chType})` : base.chType;
    const first = e.args[0];
    if (first?.kind === 'name' && this.local(first.name) === undefined) {
      const spec = this.state.specs.find(
        (s) => s.name === first.name && s.type === base.name && s.isArray === isArray,
      );
      const value = this.state.typed.get(specKey(first.name, base.name, isArray)) ?? spec?.default;
      return new ParamRef(first.name, chType, value, spec);
    }
    // A computed value ({% set %} variable, expression): convert it like a request value.
    let v = first ? unwrap(this.eval(first, e.line)) : null;
    if (v === null)
      v = (unwrap(this.eval((isArray ? e.args[2] : e.args[1]) ?? { kind: 'lit', value: null }, e.line)) ??
        null) as Value;
    if (v === null) return new ParamRef(`t${this.state.anon++}`, chType, undefined);
    const spec: ParamSpec = {
      name: first?.kind === 'name' ? first.name : 'value',
      type: base.name,
      isArray,
      base,
      required: false,
      line: e.line,
    };
    const raws = Array.isArray(v) ? v.map(String) : isArray ? splitArrayValues([String(v)]) : [String(v)];
    const converted = convert(spec, raws);
    if (converted === undefined) throw new RequestError(invalidMessage(spec, raws));
    return new ParamRef(`t${this.state.anon++}`, chType, converted, spec);
  }

  eval(e: Expr, line: number): Value {
    switch (e.kind) {
      case 'lit':
        return e.value;
      case 'name':
        return this.lookup(e.name);
      case 'list':
        return e.items.map((x) => this.eval(x, line));
      case 'dict':
        throw new TemplateRuntimeError(
          'a {...} dictionary is only allowed as the argument of custom_error()',
          line,
        );
      case 'cond':
        return truthy(this.eval(e.test, line)) ? this.eval(e.ifTrue, line) : this.eval(e.ifFalse, line);
      case 'unary': {
        const v = this.eval(e.arg, line);
        if (e.op === 'not') return !truthy(v);
        const u = unwrap(v);
        if (typeof u !== 'number') throw new TemplateRuntimeError('unary minus needs a number', line);
        return -u;
      }
      case 'index': {
        const t = unwrap(this.eval(e.target, line));
        const i = unwrap(this.eval(e.index, line));
        if ((Array.isArray(t) || typeof t === 'string') && typeof i === 'number' && Number.isInteger(i)) {
          const at = t.at(i);
          return at === undefined ? null : (at as Value);
        }
        throw new TemplateRuntimeError('indexing needs a list or string and an integer', line);
      }
      case 'binary':
        return this.binary(e.op, e.left, e.right, line);
      case 'call':
        return callFunction(this, e);
    }
  }

  private binary(op: string, le: Expr, re: Expr, line: number): Value {
    if (op === 'and') {
      const l = this.eval(le, line);
      return truthy(l) ? this.eval(re, line) : l;
    }
    if (op === 'or') {
      const l = this.eval(le, line);
      return truthy(l) ? l : this.eval(re, line);
    }
    const l = unwrap(this.eval(le, line));
    const r = unwrap(this.eval(re, line));
    switch (op) {
      case '==':
      case 'is':
        return equal(l, r);
      case '!=':
      case 'is not':
        return !equal(l, r);
      case 'in':
      case 'not in': {
        const found = Array.isArray(r)
          ? r.some((x) => equal(unwrap(x), l))
          : typeof r === 'string' && typeof l === 'string'
            ? r.includes(l)
            : false;
        return op === 'in' ? found : !found;
      }
      case '<':
      case '>':
      case '<=':
      case '>=': {
        if (!((isNum(l) && isNum(r)) || (typeof l === 'string' && typeof r === 'string'))) {
          if (l === null || r === null) return false;
          throw new TemplateRuntimeError(`cannot compare ${typeof l} with ${typeof r}`, line);
        }
        const a = l as number | string;
        const b = r as number | string;
        return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
      }
      case '+':
        if (typeof l === 'string' && typeof r === 'string') return l + r;
        if (Array.isArray(l) && Array.isArray(r)) return [...l, ...r];
        return arith(op, l, r, line);
      default:
        return arith(op, l, r, line);
    }
  }
}

const isNum = (v: unknown): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';

function equal(a: Value, b: Value): boolean {
  if (isNum(a) && isNum(b)) return typeof a === typeof b ? a === b : Number(a) === Number(b);
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => equal(unwrap(x), unwrap(b[i] ?? null)));
  return a === b;
}

function arith(op: string, l: Value, r: Value, line: number): Value {
  if (typeof l !== 'number' || typeof r !== 'number') {
    throw new TemplateRuntimeError(`"${op}" needs two numbers`, line);
  }
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      if (r === 0) throw new RequestError('division by zero in the template (check numeric parameters)');
      return l / r;
    default:
      if (r === 0) throw new RequestError('division by zero in the template (check numeric parameters)');
      return l % r;
  }
}
