import { TemplateSyntaxError } from '../pipes/errors.js';

/** One SCHEMA column of a .datasource file. */
export interface DatasourceColumn {
  name: string;
  /** ClickHouse type as written: String, LowCardinality(String), Nullable(Int32), ... */
  type: string;
  /** `json:$.a.b`: where the value sits in a posted JSON row (default: $.<name>). */
  jsonPath: string[];
  /** DEFAULT / MATERIALIZED expression and CODEC, as written (passed to ClickHouse). */
  rest: string;
}

/** A parsed .datasource file: Tinybird's SCHEMA, ENGINE_* settings and TOKEN lines. */
export interface DatasourceFile {
  name: string;
  description: string;
  columns: DatasourceColumn[];
  engine: string;
  /** ENGINE_SORTING_KEY, ENGINE_PARTITION_KEY, ENGINE_TTL, ENGINE_SETTINGS, ENGINE_VER, ... lower-cased without the prefix. */
  engineSettings: Record<string, string>;
  tokens: { name: string; scope: 'READ' | 'APPEND' }[];
}

const unquote = (s: string) => s.trim().replace(/^(["'])([\s\S]*)\1$/, '$2');
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Splits on commas outside brackets and quotes (a column list, an engine argument list). */
export function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let cur = '';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === "'" || ch === '"' || ch === '`') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim()) out.push(cur);
  return out.map((s) => s.trim()).filter(Boolean);
}

function parseColumn(text: string, line: number): DatasourceColumn {
  const m = text.match(/^`?([A-Za-z_][A-Za-z0-9_]*)`?\s+([\s\S]+)$/);
  if (!m)
    throw new TemplateSyntaxError(`bad SCHEMA column "${text.slice(0, 60)}": expected \`name\` Type`, line);
  let rest = (m[2] as string).trim();
  let jsonPath = [m[1] as string];
  const path = rest.match(/`json:\$((?:\.[A-Za-z0-9_]+|\[\d+\])*)`/);
  if (path) {
    jsonPath = (path[1] as string).split(/\.|\[|\]/).filter(Boolean);
    rest = rest.replace(path[0], ' ').trim();
  }
  // The type is everything up to DEFAULT / MATERIALIZED / CODEC (types contain parentheses).
  const cut = rest.search(/\s(DEFAULT|MATERIALIZED|CODEC|ALIAS)\b/i);
  const type = (cut < 0 ? rest : rest.slice(0, cut)).trim();
  if (!/^[A-Za-z][A-Za-z0-9_]*(\(.*\))?$/.test(type))
    throw new TemplateSyntaxError(`bad type "${type.slice(0, 60)}" for column ${m[1]}`, line);
  return { name: m[1] as string, type, jsonPath, rest: cut < 0 ? '' : rest.slice(cut).trim() };
}

/**
 * Parses a Tinybird .datasource file. Multi-line values follow `KEY >` and are indented;
 * unknown directives are errors (a typo must not silently change a table).
 */
export function parseDatasourceFile(name: string, text: string): DatasourceFile {
  if (!IDENT.test(name))
    throw new TemplateSyntaxError(`bad datasource name "${name}": use letters, digits and _`, 1);
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const out: DatasourceFile = {
    name,
    description: '',
    columns: [],
    engine: 'MergeTree',
    engineSettings: {},
    tokens: [],
  };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const line = raw.trim();
    const lineNo = i + 1;
    if (line === '' || line.startsWith('#')) continue;
    if (/^[ \t]/.test(raw))
      throw new TemplateSyntaxError(
        `unexpected indented line outside a "KEY >" block: "${line.slice(0, 60)}"`,
        lineNo,
      );
    const m = line.match(/^([A-Z_]+)\b\s*([\s\S]*)$/);
    if (!m)
      throw new TemplateSyntaxError(
        `expected a directive such as SCHEMA >, ENGINE, got "${line.slice(0, 60)}"`,
        lineNo,
      );
    const key = m[1] as string;
    let value = (m[2] ?? '').trim();
    const blockStart = lineNo + 1;
    if (value === '>') {
      const body: string[] = [];
      while (
        i + 1 < lines.length &&
        (/^[ \t]/.test(lines[i + 1] ?? '') || (lines[i + 1] ?? '').trim() === '')
      ) {
        body.push((lines[++i] ?? '').trim());
      }
      value = body.filter(Boolean).join('\n');
    }
    switch (key) {
      case 'DESCRIPTION':
        out.description = unquote(value);
        break;
      case 'SCHEMA':
        out.columns = splitTopLevel(value.replace(/\n/g, ' ')).map((c) => parseColumn(c, blockStart));
        break;
      case 'TOKEN': {
        const t = value.match(/^("[^"]+"|'[^']+'|\S+)\s+(READ|APPEND)$/i);
        if (!t) throw new TemplateSyntaxError(`expected TOKEN <name> READ|APPEND, got "${line}"`, lineNo);
        out.tokens.push({
          name: unquote(t[1] as string),
          scope: (t[2] as string).toUpperCase() as 'READ' | 'APPEND',
        });
        break;
      }
      case 'ENGINE':
        out.engine = unquote(value);
        if (!/^[A-Za-z]+MergeTree$|^MergeTree$/.test(out.engine))
          throw new TemplateSyntaxError(
            `ENGINE "${out.engine}": only the MergeTree family is supported`,
            lineNo,
          );
        break;
      case 'INDEXES':
      case 'FORWARD_QUERY':
        break; // accepted, not applied (docs/tinybird.md)
      default:
        if (key.startsWith('ENGINE_'))
          out.engineSettings[key.slice('ENGINE_'.length).toLowerCase()] = unquote(value);
        else throw new TemplateSyntaxError(`unknown directive "${key}"`, lineNo);
    }
  }
  if (out.columns.length === 0) throw new TemplateSyntaxError('no SCHEMA: a datasource needs its columns', 1);
  const seen = new Set<string>();
  for (const c of out.columns) {
    if (seen.has(c.name)) throw new TemplateSyntaxError(`column ${c.name} defined twice`, 1);
    seen.add(c.name);
  }
  return out;
}
