import { RequestError, TemplateSyntaxError } from './errors.js';
import { type ParamType, type ParamValue, paramType, splitArrayValues } from './param-types.js';
import type { Expr, TemplateNode } from './template-parser.js';
import { walkExprs } from './template-parser.js';

/** Tinybird reserves these query-string names for the API itself. */
export const RESERVED_PARAMS: ReadonlySet<string> = new Set([
  'token',
  'q',
  'format',
  'pipeline',
  'debug',
  'from',
  'query_id',
  'tag',
]);

/** A parameter as declared in a template, e.g. {{ DateTime(start_date, description="...") }}. */
export interface ParamSpec {
  name: string;
  /** Template type name: Int32, String, ... (the element type for arrays). */
  type: string;
  isArray: boolean;
  base: ParamType;
  default?: ParamValue;
  description?: string;
  required: boolean;
  example?: string;
  enum?: string[];
  /** Our extension: a regular expression the whole value must match. */
  pattern?: string;
  /** Our extension: the largest number a request may send (not enforced for exports). */
  max?: number;
  line: number;
}

export type RequestParams = Map<string, string[]>;

/** Key for a typed value: one name may be declared with two types in different places. */
export const specKey = (name: string, type: string, isArray: boolean) =>
  `${name}:${isArray ? `Array(${type})` : type}`;

/** Evaluates a literal expression (defaults, enum lists); undefined when it is not constant. */
export function constant(e: Expr | undefined): ParamValue | null | undefined {
  if (!e) return undefined;
  if (e.kind === 'lit') return e.value;
  if (e.kind === 'unary' && e.op === '-') {
    const v = constant(e.arg);
    return typeof v === 'number' ? -v : undefined;
  }
  if (e.kind === 'list') {
    const items = e.items.map(constant);
    return items.every((x) => x !== undefined && x !== null) ? (items as ParamValue[]) : undefined;
  }
  return undefined;
}

const str = (v: unknown) => (v === undefined || v === null ? undefined : String(v));

/** Converts one raw value (or a default) with the declared type; undefined when invalid. */
export function convert(spec: ParamSpec, raws: string[]): ParamValue | undefined {
  if (spec.isArray) {
    const out: ParamValue[] = [];
    for (const item of splitArrayValues(raws)) {
      const v = spec.base.parse(item);
      if (v === undefined || !checkEnumPattern(spec, item)) return undefined;
      out.push(v);
    }
    return out;
  }
  const raw = raws[0] ?? '';
  const v = spec.base.parse(raw);
  return v !== undefined && checkEnumPattern(spec, raw) ? v : undefined;
}

function checkEnumPattern(spec: ParamSpec, raw: string): boolean {
  if (spec.enum && !spec.enum.includes(raw)) return false;
  if (spec.pattern && !new RegExp(spec.pattern).test(raw)) return false;
  return true;
}

/** "Example: name=value" for messages; the pipe's example, its default, or a valid sample. */
export function exampleOf(spec: ParamSpec): string {
  const v =
    spec.example ??
    (spec.default !== undefined ? String(spec.default) : (spec.enum?.[0] ?? spec.base.sample));
  return `${spec.name}=${v}`;
}

export function typeLabel(spec: ParamSpec): string {
  return spec.isArray ? `Array(${spec.base.name})` : spec.base.name;
}

function shown(raws: string[]): string {
  const v = raws.join(',');
  const cut = v.length > 40 ? `${v.slice(0, 40)}…" (${v.length} characters)` : `${v}"`;
  // Control characters shown escaped, so a NUL in a value cannot cut the message.
  const safe = Array.from(cut, (c) =>
    c.charCodeAt(0) < 32 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c,
  );
  return `"${safe.join('')}`;
}

/** The 400 message for a value that fails its declaration: names parameter, type and an example. */
export function invalidMessage(spec: ParamSpec, raws: string[]): string {
  const what = spec.enum
    ? `one of ${spec.enum.join(', ')}`
    : spec.pattern
      ? `${spec.base.expected} matching ${spec.pattern}`
      : spec.isArray
        ? `a comma-separated list (or repeated keys) of ${spec.base.expected}`
        : spec.base.expected;
  return `Invalid value for parameter "${spec.name}": expected ${typeLabel(spec)}, ${what}; got ${shown(raws)}. Example: ${exampleOf(spec)}`;
}

/** Finds every typed-parameter declaration in the templates (for validation, listing and OpenAPI). */
export function collectSpecs(trees: { nodes: TemplateNode[]; locals: Set<string> }[]): ParamSpec[] {
  const specs: ParamSpec[] = [];
  for (const { nodes, locals } of trees) {
    for (const e of walkExprs(nodes)) {
      if (e.kind !== 'call') continue;
      const isArray = e.fn === 'Array';
      const base = isArray
        ? paramType(String(constant(e.args[1] ?? e.kwargs.type) ?? 'String'))
        : paramType(e.fn);
      if (!base) {
        if (isArray)
          throw new TemplateSyntaxError(
            `Array(): unknown element type "${String(constant(e.args[1]))}"`,
            e.line,
          );
        continue;
      }
      const first = e.args[0];
      if (first?.kind !== 'name' || locals.has(first.name)) continue;
      const name = first.name;
      if (RESERVED_PARAMS.has(name)) {
        throw new TemplateSyntaxError(
          `"${name}" is a reserved parameter name (${[...RESERVED_PARAMS].join(', ')})`,
          e.line,
        );
      }
      const def = constant(isArray ? (e.args[2] ?? e.kwargs.default) : (e.args[1] ?? e.kwargs.default));
      const enumValues = constant(e.kwargs.enum);
      const spec: ParamSpec = {
        name,
        type: base.name,
        isArray,
        base,
        description: str(constant(e.kwargs.description)),
        required: constant(e.kwargs.required) === true,
        example: str(constant(e.kwargs.example)),
        enum: Array.isArray(enumValues) ? enumValues.map(String) : undefined,
        pattern: str(constant(e.kwargs.pattern)),
        line: e.line,
      };
      const max = constant(e.kwargs.max);
      if (max !== undefined) {
        if (typeof max !== 'number' || base.openapi.type !== 'integer')
          throw new TemplateSyntaxError(
            `parameter "${name}": max= needs an integer type and a number`,
            e.line,
          );
        spec.max = max;
      }
      if (spec.pattern) {
        try {
          new RegExp(spec.pattern);
        } catch {
          throw new TemplateSyntaxError(
            `parameter "${name}": pattern is not a valid regular expression`,
            e.line,
          );
        }
      }
      if (def !== undefined && def !== null) {
        const raws = Array.isArray(def) ? def.map(String) : [String(def)];
        const v = convert(spec, raws);
        if (v === undefined)
          throw new TemplateSyntaxError(
            `default of "${name}" is not valid: ${invalidMessage(spec, raws)}`,
            e.line,
          );
        spec.default = v;
      }
      const same = specs.find((s) => s.name === name && s.type === spec.type && s.isArray === isArray);
      if (same) {
        // Several uses of one parameter: keep the richest documentation.
        same.description ??= spec.description;
        same.example ??= spec.example;
        same.default ??= spec.default;
        same.enum ??= spec.enum;
        same.pattern ??= spec.pattern;
        same.max ??= spec.max;
        same.required ||= spec.required;
      } else specs.push(spec);
    }
  }
  return specs;
}

/**
 * Checks every declared parameter the request carries, before any rendering: a bad value is a
 * 400 naming the parameter, its type and an example. Returns the typed values by specKey.
 * An export (CSV) may go past a parameter's max=: its rows are capped by the server instead.
 */
export function validateRequest(
  specs: ParamSpec[],
  request: RequestParams,
  options: { exporting?: boolean } = {},
): Map<string, ParamValue> {
  const typed = new Map<string, ParamValue>();
  for (const spec of specs) {
    const raws = request.get(spec.name);
    if (!raws || raws.length === 0) {
      if (spec.required && spec.default === undefined) {
        throw new RequestError(
          `Missing required parameter "${spec.name}" (${typeLabel(spec)}${spec.description ? `: ${spec.description}` : ''}). Example: ${exampleOf(spec)}`,
        );
      }
      continue;
    }
    const v = convert(spec, raws);
    if (v === undefined) throw new RequestError(invalidMessage(spec, raws));
    if (spec.max !== undefined && !options.exporting && Number(v) > spec.max) {
      throw new RequestError(
        `Invalid value for parameter "${spec.name}": at most ${spec.max}; got ${shown(raws)}. Example: ${exampleOf(spec)}`,
      );
    }
    typed.set(specKey(spec.name, spec.type, spec.isArray), v);
  }
  return typed;
}
