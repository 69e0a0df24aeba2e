import type { Pipe } from './compile.js';

/** One pipe's parameters as GET /v0/pipes lists them. */
export function describeParams(p: Pipe) {
  return p.params.map((s) => ({
    name: s.name,
    type: s.isArray ? `Array(${s.type})` : s.type,
    required: s.required,
    default: s.default,
    description: s.description,
    example: s.example,
    enum: s.enum,
    pattern: s.pattern,
  }));
}

/**
 * GET /v0/pipes/<name>: the pipe as Tinybird's Pipes API describes it (name, description,
 * type, the endpoint node, every node with its SQL), plus its parameters. Ids are the names:
 * there is one workspace and a pipe's name is its identity.
 */
export function describePipe(p: Pipe) {
  return {
    id: p.name,
    name: p.name,
    description: p.description,
    tags: p.tags,
    type: 'endpoint',
    endpoint: p.endpoint,
    url: `/v0/pipes/${p.name}.json`,
    nodes: p.nodes.map((n) => ({
      id: n.name,
      name: n.name,
      description: n.description,
      sql: n.sql,
      node_type: n.name === p.endpoint ? 'endpoint' : 'standard',
    })),
    parameters: describeParams(p),
  };
}
