import { TemplateSyntaxError } from './errors.js';

/** A piece of template text: literal SQL, an `{{ expression }}` or a `{% statement %}`. */
export type Segment =
  | { kind: 'text'; text: string; line: number }
  | { kind: 'expr'; source: string; line: number }
  | { kind: 'stmt'; source: string; line: number };

export type TokenKind = 'num' | 'str' | 'name' | 'op' | 'eof';
export interface Token {
  kind: TokenKind;
  value: string;
  pos: number;
}

/** Finds the closing delimiter, skipping over quoted strings so `'}}'` inside one does not end the tag. */
function findClose(src: string, from: number, close: string): number {
  let quote: string | undefined;
  for (let i = from; i < src.length; i++) {
    const ch = src[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (src.startsWith(close, i)) return i;
  }
  return -1;
}

/** Splits a Tornado-style template into text, `{{ }}`, `{% %}` segments; `{# #}` comments are dropped. */
export function splitTemplate(src: string, firstLine = 1): Segment[] {
  const out: Segment[] = [];
  let pos = 0;
  let line = firstLine;
  const advance = (to: number) => {
    for (let k = pos; k < to; k++) if (src.charCodeAt(k) === 10) line++;
    pos = to;
  };
  while (pos < src.length) {
    const open = src.slice(pos).search(/\{[{%#]/);
    if (open < 0) {
      out.push({ kind: 'text', text: src.slice(pos), line });
      break;
    }
    const start = pos + open;
    if (start > pos) {
      out.push({ kind: 'text', text: src.slice(pos, start), line });
      advance(start);
    }
    const type = src[start + 1];
    const close = type === '{' ? '}}' : type === '%' ? '%}' : '#}';
    const end = type === '#' ? src.indexOf(close, start + 2) : findClose(src, start + 2, close);
    if (end < 0) throw new TemplateSyntaxError(`unclosed "{${type}": expected "${close}"`, line);
    const source = src.slice(start + 2, end).trim();
    if (type === '{') out.push({ kind: 'expr', source, line });
    else if (type === '%') out.push({ kind: 'stmt', source, line });
    advance(end + 2);
  }
  return out;
}

const OPS = [
  '==',
  '!=',
  '<=',
  '>=',
  '**',
  '<',
  '>',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  '=',
  '+',
  '-',
  '*',
  '/',
  '%',
  ':',
  '.',
];

/** Tokenizes one template expression (Python-like syntax, the subset Tinybird pipes use). */
export function tokenize(src: string, line: number): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = src.slice(i).match(/^(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/);
      const text = (m as RegExpMatchArray)[0];
      out.push({ kind: 'num', value: text, pos: i });
      i += text.length;
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      const text = (src.slice(i).match(/^[A-Za-z_][A-Za-z0-9_]*/) as RegExpMatchArray)[0];
      out.push({ kind: 'name', value: text, pos: i });
      i += text.length;
      continue;
    }
    if (ch === '"' || ch === "'") {
      let j = i + 1;
      let value = '';
      for (; j < src.length && src[j] !== ch; j++) {
        if (src[j] === '\\') {
          const next = src[++j];
          value += next === 'n' ? '\n' : next === 't' ? '\t' : (next ?? '');
        } else value += src[j];
      }
      if (j >= src.length) throw new TemplateSyntaxError(`unterminated string in "${src}"`, line);
      out.push({ kind: 'str', value, pos: i });
      i = j + 1;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new TemplateSyntaxError(`unexpected character "${ch}" in "${src}"`, line);
    out.push({ kind: 'op', value: op, pos: i });
    i += op.length;
  }
  out.push({ kind: 'eof', value: '', pos: src.length });
  return out;
}
