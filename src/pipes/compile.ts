import type { Datafile } from './datafile.js';
import { TemplateSyntaxError } from './errors.js';
import { KNOWN_FUNCTIONS, sqlAndKey } from './functions.js';
import { KNOWN_COLUMNS } from './known-columns.js';
import { collectSpecs, type ParamSpec, type RequestParams, validateRequest } from './params.js';
import { newState, type Rendered, Renderer, type RenderState } from './render.js';
import { type Expr, parseTemplate, type TemplateNode, walkExprs } from './template-parser.js';

export interface PipeNode {
  name: string;
  description: string;
  /** The node's SQL as written in the file (served by GET /v0/pipes/<name>). */
  sql: string;
  templated: boolean;
  tree: TemplateNode[];
}

/** A loaded endpoint pipe, ready to render per request. */
export interface Pipe {
  name: string;
  file: string;
  description: string;
  tags: string[];
  tokens: { name: string; scope: string }[];
  nodes: PipeNode[];
  /** The node served as the endpoint. */
  endpoint: string;
  params: ParamSpec[];
  /** Names column(), columns() and sql_and may use; see pipeColumns(). */
  columns: ReadonlySet<string>;
  /** Other endpoint pipes its nodes read by name (FROM other_pipe), set by linkPipes(). */
  uses?: Pipe[];
  /** The node answering many values of one parameter at once (tag "coalesce:<param>:<node>", read-coalescer.ts). */
  batch?: BatchNode;
}

export const COALESCE_TAG = 'coalesce:';

export interface BatchNode {
  /** The String parameter whose values it takes as one Array(String). */
  param: string;
  node: string;
  /** Its parameters: the request's, with `param` an Array (kept apart from the pipe's own). */
  params: ParamSpec[];
}

/** Does the SQL read `name` as a table (FROM name, JOIN name)? A column or alias of that name does not count. */
const readsFrom = (sql: string, name: string) =>
  new RegExp(`\\b(FROM|JOIN)\\s+\`?${name}\`?(?![\\w.])`, 'i').test(sql);

/**
 * Lets a node read another endpoint pipe by its name, as in Tinybird: each pipe learns
 * which others its SQL names (not its own nodes). A cycle is refused: it could not render.
 */
export function linkPipes(pipes: ReadonlyMap<string, Pipe>): { file: string; message: string }[] {
  const errors: { file: string; message: string }[] = [];
  for (const p of pipes.values()) {
    const own = new Set(p.nodes.map((n) => n.name));
    const text = p.nodes.map((n) => n.sql).join('\n');
    p.uses = [...pipes.values()].filter((o) => o !== p && !own.has(o.name) && readsFrom(text, o.name));
  }
  const visiting = new Set<Pipe>();
  const cyclic = (p: Pipe): boolean => {
    if (visiting.has(p)) return true;
    visiting.add(p);
    const found = (p.uses ?? []).some(cyclic);
    visiting.delete(p);
    return found;
  };
  // Every pipe on a cycle is found before any is changed.
  for (const p of [...pipes.values()].filter(cyclic)) {
    errors.push({ file: p.file, message: `pipe ${p.name} reads itself through other pipes: not served` });
    p.uses = undefined;
  }
  return errors;
}

/** What the database holds, for checking identifiers: table name -> its column names. */
export type TableColumns = ReadonlyMap<string, readonly string[]>;

const ALIAS = /\bAS\s+`?([A-Za-z_][A-Za-z0-9_]*)`?/gi;

/**
 * The identifiers a pipe may use: the columns of every table whose name appears in its SQL,
 * and the names its own SQL gives with AS (output columns an ORDER BY may pick). Without
 * table information (unit tests), the shipped schema's list.
 */
export function pipeColumns(df: Datafile, tables?: TableColumns): ReadonlySet<string> {
  if (!tables) return KNOWN_COLUMNS;
  const text = df.nodes.map((n) => n.sql).join('\n');
  const out = new Set<string>();
  for (const [table, cols] of tables) {
    if (new RegExp(`\\b${table}\\b`).test(text)) for (const c of cols) out.add(c);
  }
  for (const m of text.matchAll(ALIAS)) out.add(m[1] as string);
  return out;
}

/** Turns a parsed datafile into a Pipe: parses templates and checks what can be checked before any request. */
export function compilePipe(name: string, file: string, df: Datafile, tables?: TableColumns): Pipe {
  const columns = pipeColumns(df, tables);
  const endpoints = df.nodes.filter((n) => n.type === 'endpoint');
  if (endpoints.length > 1)
    throw new TemplateSyntaxError(
      'more than one node has TYPE endpoint',
      (endpoints[1] as { line: number }).line,
    );
  const other = df.nodes.find((n) => n.type && n.type !== 'endpoint');
  if (endpoints.length === 0 && other) {
    throw new TemplateSyntaxError(
      `TYPE ${other.type} pipes are not served here; only TYPE endpoint`,
      other.line,
    );
  }
  const endpoint = (endpoints[0] ?? df.nodes[df.nodes.length - 1]) as (typeof df.nodes)[number];

  const trees: { nodes: TemplateNode[]; locals: Set<string> }[] = [];
  const nodes: PipeNode[] = df.nodes.map((n) => {
    const lines = n.sql.split('\n');
    const templated = (lines[0] ?? '').trim() === '%';
    const body = templated ? lines.slice(1).join('\n') : n.sql;
    const tree: TemplateNode[] = templated
      ? parseTemplate(body, n.sqlLine + 1)
      : [{ kind: 'text', text: body }];
    const locals = new Set<string>();
    const collect = (ts: TemplateNode[]) => {
      for (const t of ts) {
        // {% set x = String(x, ...) %} declares the request parameter x; other sets are template variables.
        if (t.kind === 'set' && !selfDeclaring(t.name, t.expr)) locals.add(t.name);
        else if (t.kind === 'for') {
          locals.add(t.name);
          collect(t.body);
        } else if (t.kind === 'if') {
          for (const b of t.branches) collect(b.body);
          collect(t.otherwise);
        }
      }
    };
    collect(tree);
    for (const e of walkExprs(tree)) {
      if (e.kind !== 'call') continue;
      if (!KNOWN_FUNCTIONS.has(e.fn))
        throw new TemplateSyntaxError(`unknown template function ${e.fn}()`, e.line);
      if (e.fn === 'sql_and') {
        for (const key of Object.keys(e.kwargs)) {
          const k = sqlAndKey(key);
          if (!k || !columns.has(k.column))
            throw new TemplateSyntaxError(`sql_and: "${key}" does not name a known column`, e.line);
        }
      }
    }
    trees.push({ nodes: tree, locals });
    return { name: n.name, description: n.description, sql: n.sql, templated, tree };
  });
  const batch = batchNode(df, trees);
  return {
    name,
    file,
    description: df.description,
    tags: df.tags,
    tokens: df.tokens,
    nodes,
    endpoint: endpoint.name,
    // The batch node's Array parameter is not one a caller sends.
    params: collectSpecs(trees.filter((_, i) => df.nodes[i]?.name !== batch?.node)),
    columns,
    batch,
  };
}

/** The tag "coalesce:<param>:<node>", checked: <node> exists and takes <param> as Array(String). */
function batchNode(
  df: Datafile,
  trees: { nodes: TemplateNode[]; locals: Set<string> }[],
): BatchNode | undefined {
  const tag = df.tags.find((t) => t.startsWith(COALESCE_TAG));
  if (!tag) return undefined;
  const [param, node] = tag.slice(COALESCE_TAG.length).split(':');
  const at = df.nodes.findIndex((n) => n.name === node);
  const where = df.nodes[at]?.line ?? 1;
  if (!param || !node || at < 0)
    throw new TemplateSyntaxError(`tag "${tag}": expected coalesce:<param>:<node> naming a node`, where);
  const params = collectSpecs(trees.slice(0, at + 1));
  const own = collectSpecs(trees.slice(at, at + 1)).filter((s) => s.name === param);
  if (own.length === 0 || own.some((s) => !s.isArray || s.type !== 'String'))
    throw new TemplateSyntaxError(
      `tag "${tag}": node ${node} must read ${param} as Array(${param}, 'String')`,
      where,
    );
  return { param, node, params: params.filter((s) => s.name !== param || s.isArray) };
}

function selfDeclaring(name: string, expr: Expr): boolean {
  for (const e of walkExprs([{ kind: 'output', expr, line: 0 }])) {
    if (e.kind === 'call' && e.args[0]?.kind === 'name' && e.args[0].name === name) return true;
  }
  return false;
}

const stripSemicolon = (sql: string) => sql.trim().replace(/;\s*$/, '');

/**
 * Renders the endpoint for one request. Earlier nodes the endpoint reads from become CTEs
 * (WITH name AS (...)), in file order, so a node can build on the one before it.
 */
export function renderPipe(
  pipe: Pipe,
  request: RequestParams,
  options: { exporting?: boolean; secrets?: ReadonlyMap<string, string>; shared?: RenderState } = {},
): Rendered {
  const typed = validateRequest(pipe.params, request, options);
  const state = newState(request, typed, pipe.params, { columns: pipe.columns, secrets: options.secrets });
  // A pipe read by another binds into the reader's placeholders: one set of names and values.
  if (options.shared) {
    state.params = options.shared.params;
    state.bound = options.shared.bound;
    state.anon = options.shared.anon;
  }
  const rendered = new Map<string, string>();
  const order = pipe.nodes.map((n) => n.name);
  const visit = (name: string) => {
    if (rendered.has(name)) return;
    const node = pipe.nodes.find((n) => n.name === name) as PipeNode;
    const sql = stripSemicolon(new Renderer(state).render(node.tree));
    rendered.set(name, sql);
    // A node may read any node declared before it.
    for (const dep of order.slice(0, order.indexOf(name))) {
      if (new RegExp(`\\b${dep}\\b`).test(sql)) visit(dep);
    }
  };
  visit(pipe.endpoint);
  // Other pipes its nodes read come first, each as a CTE named after the pipe.
  const text = [...rendered.values()].join('\n');
  const used = (pipe.uses ?? []).filter((o) => readsFrom(text, o.name));
  const pipeCtes = used.map((o) => {
    const sub = renderPipe(o, request, { ...options, exporting: false, shared: state });
    state.anon = Math.max(state.anon, sub.anon ?? 0);
    return `${o.name} AS (\n${sub.sql}\n)`;
  });
  if (options.shared) options.shared.anon = state.anon;
  const ctes = [
    ...pipeCtes,
    ...order
      .filter((n) => n !== pipe.endpoint && rendered.has(n))
      .map((n) => `${n} AS (\n${rendered.get(n)}\n)`),
  ];
  const main = rendered.get(pipe.endpoint) as string;
  const sql = ctes.length ? `WITH ${ctes.join(',\n')}\nSELECT * FROM (\n${main}\n)` : main;
  return { sql, params: state.params, anon: state.anon };
}
