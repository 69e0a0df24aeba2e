import { TemplateSyntaxError } from './errors.js';

/** One NODE block of a .pipe file. */
export interface DatafileNode {
  name: string;
  description: string;
  /** The SQL block with its indentation removed. */
  sql: string;
  /** 1-based line in the file where the SQL block's first line sits (for error messages). */
  sqlLine: number;
  /** `TYPE endpoint|materialized|copy`, lower-cased; undefined when the node has none. */
  type?: string;
  /** DATASOURCE, TARGET_DATASOURCE, COPY_SCHEDULE, COPY_MODE, ... of materialized and copy nodes (key lower-cased). */
  settings: Record<string, string>;
  line: number;
}

export interface Datafile {
  description: string;
  tags: string[];
  tokens: { name: string; scope: string }[];
  nodes: DatafileNode[];
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const unquote = (s: string) => s.trim().replace(/^(["'])(.*)\1$/, '$2');

export interface DatafileOptions {
  /** Reads the file an `INCLUDE "path"` line names (relative to the pipe); absent: INCLUDE is refused. */
  include?: (path: string) => string;
}

/**
 * Parses Tinybird's datafile format: top-level DESCRIPTION, TAGS, TOKEN, then NODE blocks
 * with DESCRIPTION, SQL and TYPE. Multi-line values follow `KEY >` and are indented.
 * `INCLUDE "file.incl"` adds the NODE blocks of another file at that place (shared nodes,
 * such as the analytics window, written once).
 * Throws TemplateSyntaxError with the 1-based line of the first problem.
 */
export function parseDatafile(text: string, options: DatafileOptions = {}): Datafile {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const out: Datafile = { description: '', tags: [], tokens: [], nodes: [] };
  let node: DatafileNode | undefined;
  let i = 0;

  // Collects the indented block after `KEY >`; blank lines inside are kept.
  const block = (): { text: string; firstLine: number } => {
    const body: string[] = [];
    const firstLine = i + 2;
    let j = i + 1;
    while (j < lines.length) {
      const l = lines[j] ?? '';
      if (l.trim() === '' || /^[ \t]/.test(l)) {
        body.push(l);
        j++;
      } else break;
    }
    while (body.length > 0 && (body[body.length - 1] ?? '').trim() === '') body.pop();
    const indents = body.filter((l) => l.trim() !== '').map((l) => (l.match(/^[ \t]*/) ?? [''])[0].length);
    const cut = indents.length ? Math.min(...indents) : 0;
    i = j - 1;
    return { text: body.map((l) => l.slice(cut)).join('\n'), firstLine };
  };

  for (; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const line = raw.trim();
    const lineNo = i + 1;
    if (line === '' || line.startsWith('#')) continue;
    if (/^[ \t]/.test(raw)) {
      throw new TemplateSyntaxError(
        `unexpected indented line outside a "KEY >" block: "${line.slice(0, 60)}"`,
        lineNo,
      );
    }
    const m = line.match(/^([A-Z_]+)\b\s*(.*)$/);
    if (!m)
      throw new TemplateSyntaxError(
        `expected a directive such as NODE, SQL >, TYPE, got "${line.slice(0, 60)}"`,
        lineNo,
      );
    const key = m[1] as string;
    const rest = (m[2] ?? '').trim();
    switch (key) {
      case 'DESCRIPTION': {
        const text = rest === '>' ? block().text : unquote(rest);
        if (node) node.description = text;
        else out.description = text;
        break;
      }
      case 'TAGS':
        out.tags = rest.split(',').map(unquote).filter(Boolean);
        break;
      case 'TOKEN': {
        const t = rest.match(/^("[^"]+"|'[^']+'|\S+)\s+(READ|APPEND)$/i);
        if (!t) throw new TemplateSyntaxError(`expected TOKEN <name> READ, got "${line}"`, lineNo);
        out.tokens.push({ name: unquote(t[1] as string), scope: (t[2] as string).toUpperCase() });
        break;
      }
      case 'NODE': {
        const name = unquote(rest);
        if (!IDENT.test(name))
          throw new TemplateSyntaxError(`bad node name "${name}": use letters, digits and _`, lineNo);
        if (out.nodes.some((n) => n.name === name))
          throw new TemplateSyntaxError(`node "${name}" defined twice`, lineNo);
        node = { name, description: '', sql: '', sqlLine: lineNo, line: lineNo, settings: {} };
        out.nodes.push(node);
        break;
      }
      case 'SQL': {
        if (!node) throw new TemplateSyntaxError('SQL outside a NODE block', lineNo);
        if (rest !== '>') throw new TemplateSyntaxError('expected "SQL >" followed by indented SQL', lineNo);
        const b = block();
        if (!b.text.trim())
          throw new TemplateSyntaxError(`node "${node.name}" has an empty SQL block`, lineNo);
        node.sql = b.text;
        node.sqlLine = b.firstLine;
        break;
      }
      case 'INCLUDE': {
        // INCLUDE "file" "VAR=value": the included file's variables are not supported.
        if (/^"[^"]*"\s+\S/.test(rest))
          throw new TemplateSyntaxError('INCLUDE with variables ("VAR=value") is not supported', lineNo);
        const path = unquote(rest);
        if (!options.include) throw new TemplateSyntaxError('INCLUDE is not available here', lineNo);
        let included: Datafile;
        try {
          // An included file includes nothing itself: no cycles to guard against.
          included = parseDatafile(options.include(path));
        } catch (err) {
          const e = err as Error & { line?: number };
          throw new TemplateSyntaxError(
            `INCLUDE "${path}"${e.line ? `:${e.line}` : ''}: ${e.message}`,
            lineNo,
          );
        }
        for (const n of included.nodes) {
          if (out.nodes.some((o) => o.name === n.name))
            throw new TemplateSyntaxError(`node "${n.name}" defined twice (INCLUDE "${path}")`, lineNo);
          out.nodes.push(n);
        }
        node = undefined;
        break;
      }
      case 'TYPE': {
        if (!node) throw new TemplateSyntaxError('TYPE outside a NODE block', lineNo);
        node.type = unquote(rest).toLowerCase();
        // A sink, a stream, ...: served as an endpoint it would answer something else than
        // the project means, so it is refused where it is written.
        if (!['endpoint', 'materialized', 'copy'].includes(node.type))
          throw new TemplateSyntaxError(
            `TYPE ${node.type} is not supported: a pipe is an endpoint, materialized or copy`,
            lineNo,
          );
        break;
      }
      // Settings of materialized and copy nodes (src/project reads them); hints we accept.
      case 'DATASOURCE':
      case 'ENGINE':
      case 'COPY_SCHEDULE':
      case 'COPY_MODE':
      case 'TARGET_DATASOURCE':
      case 'CACHE': {
        const value = rest === '>' ? block().text : unquote(rest);
        if (node) node.settings[key.toLowerCase()] = value;
        break;
      }
      default:
        throw new TemplateSyntaxError(`unknown directive "${key}"`, lineNo);
    }
  }
  for (const n of out.nodes) {
    if (!n.sql) throw new TemplateSyntaxError(`node "${n.name}" has no "SQL >" block`, n.line);
  }
  if (out.nodes.length === 0)
    throw new TemplateSyntaxError('no NODE found: a pipe needs at least one NODE with SQL', 1);
  return out;
}
