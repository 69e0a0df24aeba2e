/**
 * Query parameters as the ClickHouse HTTP interface receives them (`param_<name>=<text>`)
 * turned into values for chDB's binder.
 *
 * The HTTP text is ClickHouse's "escaped" form of the value (clickhouse-js writes a quote
 * as \' and a backslash as \\). chDB's binder takes a JS string and escapes it again (TSV
 * rules: \ \0 \b \f \n \r \t), so the text is unescaped first, or every backslash would
 * arrive doubled. Inside an Array, Tuple or Map the strings are quoted literals, where chDB's
 * escaping cannot produce \' : there a quote becomes '' (SQL-style), which ClickHouse reads
 * as the same quote.
 */

const ESCAPES: Record<string, string> = {
  '\\': '\\',
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0',
  b: '\b',
  f: '\f',
  a: '\x07',
  v: '\v',
  e: '\x1b',
};

/** Types whose text is a structure of quoted literals rather than one bare value. */
export function isCompoundType(type: string | undefined): boolean {
  const inner = (type ?? '').replace(/^(Nullable|LowCardinality)\((.*)\)$/, '$2').trim();
  return /^(Array|Tuple|Map|Nested)\b/.test(inner);
}

/** The value to hand chDB for one `param_<name>` text, given the placeholder's declared type. */
export function decodeParam(text: string, type: string | undefined): string {
  const compound = isCompoundType(type);
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch !== '\\' || i === text.length - 1) {
      out += ch;
      continue;
    }
    const next = text[++i] as string;
    if (next === "'") out += compound ? "''" : "'";
    else if (next === 'x' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out += String.fromCharCode(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else out += ESCAPES[next] ?? next;
  }
  return out;
}

/** The declared type of each {name:Type} placeholder in a statement (first one wins). */
export function placeholderTypes(sql: string): Map<string, string> {
  const types = new Map<string, string>();
  // Types nest one level of parentheses deep in practice: Array(String), Map(String, UInt64).
  for (const m of sql.matchAll(
    /\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*((?:[^{}()]|\((?:[^()]|\([^()]*\))*\))+)\}/g,
  )) {
    const [, name, type] = m;
    if (name && type && !types.has(name)) types.set(name, type.trim());
  }
  return types;
}

/** All `param_*` entries, decoded against the statement's placeholders. */
export function bindParams(raw: Map<string, string>, sql: string): Record<string, string> {
  const types = placeholderTypes(sql);
  const bound: Record<string, string> = {};
  for (const [name, text] of raw) bound[name] = decodeParam(text, types.get(name));
  return bound;
}
