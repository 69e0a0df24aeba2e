import type { Pipe } from './compile.js';
import type { ParamSpec } from './params.js';

export interface Column {
  name: string;
  type: string;
}

type Schema = Record<string, unknown>;

/** JSON schema of one ClickHouse output type, as FORMAT JSON writes it (64-bit ints unquoted). */
export function columnSchema(type: string): Schema {
  let t = type.trim();
  const inner = (prefix: string) => t.slice(prefix.length, -1);
  if (t.startsWith('Nullable(')) return { ...columnSchema(inner('Nullable(')), nullable: true };
  if (t.startsWith('LowCardinality(')) return columnSchema(inner('LowCardinality('));
  if (t.startsWith('Array(')) return { type: 'array', items: columnSchema(inner('Array(')) };
  if (t.startsWith('SimpleAggregateFunction(')) {
    t = t.slice(t.indexOf(',') + 1, -1);
    return columnSchema(t);
  }
  if (/^(Int8|Int16|Int32|UInt8|UInt16)$/.test(t)) return { type: 'integer', format: 'int32' };
  if (/^U?Int(32|64|128|256)$/.test(t)) return { type: 'integer', format: 'int64' };
  if (/^(Float|Decimal)/.test(t)) return { type: 'number' };
  if (t === 'Bool') return { type: 'boolean' };
  if (/^Date(32)?$/.test(t)) return { type: 'string', format: 'date' };
  if (/^DateTime/.test(t)) return { type: 'string', format: 'date-time' };
  return { type: 'string' };
}

function paramSchema(spec: ParamSpec): Schema {
  const item: Schema = { ...spec.base.openapi };
  if (spec.enum) item.enum = spec.enum;
  if (spec.pattern) item.pattern = spec.pattern;
  if (spec.max !== undefined) item.maximum = spec.max;
  if (!spec.isArray) {
    if (spec.default !== undefined) item.default = spec.default;
    return item;
  }
  const schema: Schema = { type: 'array', items: item };
  if (spec.default !== undefined) schema.default = spec.default;
  return schema;
}

/** OpenAPI 3.0 for the endpoint pipes: one GET path each, parameters from the templates, rows from the output columns. */
export function buildOpenApi(
  origin: string,
  pipes: Pipe[],
  columns: Map<string, Column[] | undefined>,
): Schema {
  const paths: Schema = {};
  for (const pipe of pipes) {
    const cols = columns.get(pipe.name);
    const row: Schema = cols
      ? { type: 'object', properties: Object.fromEntries(cols.map((c) => [c.name, columnSchema(c.type)])) }
      : { type: 'object', additionalProperties: true };
    paths[`/pipes/${pipe.name}.json`] = {
      get: {
        summary: pipe.description.split('\n')[0] || pipe.name,
        description: pipe.description,
        operationId: `${pipe.name}_json`,
        tags: pipe.tags.length ? pipe.tags : undefined,
        parameters: pipe.params.map((p) => ({
          in: 'query',
          name: p.name,
          description: p.description,
          required: p.required,
          example: p.example,
          schema: paramSchema(p),
          ...(p.isArray ? { style: 'form', explode: false } : {}),
        })),
        responses: {
          '200': {
            description: 'The pipe result',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    meta: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: { name: { type: 'string' }, type: { type: 'string' } },
                      },
                    },
                    data: { type: 'array', items: row },
                    rows: { type: 'integer' },
                    rows_before_limit_at_least: { type: 'integer' },
                    statistics: {
                      type: 'object',
                      properties: {
                        elapsed: { type: 'number' },
                        rows_read: { type: 'integer' },
                        bytes_read: { type: 'integer' },
                      },
                    },
                  },
                },
              },
            },
          },
          '400': { $ref: '#/components/responses/Error' },
          '401': { $ref: '#/components/responses/Error' },
          '403': { $ref: '#/components/responses/Error' },
          '408': { $ref: '#/components/responses/Error' },
          '500': { $ref: '#/components/responses/Error' },
        },
      },
    };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Pipes API',
      version: '1.0.0',
      description: 'Endpoints generated from the pipes/*.pipe files',
    },
    servers: [{ url: `${origin}/v0` }],
    security: [{ TokenBearer: [] }, { TokenQuery: [] }],
    paths,
    components: {
      securitySchemes: {
        TokenBearer: { type: 'http', scheme: 'bearer' },
        TokenQuery: { type: 'apiKey', in: 'query', name: 'token' },
      },
      responses: {
        Error: {
          description: 'An error',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: { error: { type: 'string' }, documentation: { type: 'string' } },
                required: ['error'],
              },
            },
          },
        },
      },
    },
  };
}

/** A request that renders the pipe with valid values everywhere: for DESCRIBE at load time. */
export function sampleRequest(pipe: Pipe): Map<string, string[]> {
  const req = new Map<string, string[]>();
  for (const p of pipe.params) {
    const v = p.example ?? (p.default !== undefined ? String(p.default) : (p.enum?.[0] ?? p.base.sample));
    req.set(p.name, [v]);
  }
  return req;
}
