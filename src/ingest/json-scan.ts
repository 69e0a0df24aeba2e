/**
 * One pass over JSON text with no recursion, so the work is linear in the text and no
 * input can exhaust the stack (JSON.stringify, zod and our own code walk parsed values
 * recursively; a 60 KB row nested 5,000 deep overflowed them). It reads structure only
 * (brackets outside strings) and does not validate the JSON: JSON.parse does that.
 */
export interface JsonShape {
  /** The deepest nesting of objects and arrays: 0 for a scalar, 1 for {"a":1}. */
  depth: number;
  /**
   * The text is one object or array whose brackets all close, with nothing after it, no
   * string left open and no raw line break inside a string (JSON forbids one, so such
   * text is broken NDJSON, never one document).
   */
  single: boolean;
  /**
   * When the text is an array (first non-space character '['): the [start, end) of each
   * top-level item, trimmed of whitespace. Meaningful only for text that is valid JSON.
   */
  items?: [number, number][];
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

export function scanJson(text: string): JsonShape {
  let depth = 0;
  let max = 0;
  let inString = false;
  let broken = false; // a closing bracket without an opening one, or a line break in a string
  let first = 0;
  let closed = -1; // where the first top-level value closed
  while (first < text.length && isSpace(text.charCodeAt(first))) first++;
  const items: [number, number][] | undefined = text.charCodeAt(first) === 91 ? [] : undefined;
  let itemStart = -1;
  const endItem = (end: number) => {
    if (!items || itemStart < 0) return;
    let e = end;
    while (e > itemStart && isSpace(text.charCodeAt(e - 1))) e--;
    let s = itemStart;
    while (s < e && isSpace(text.charCodeAt(s))) s++;
    if (e > s) items.push([s, e]);
    itemStart = -1;
  };
  for (let i = first; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      // A backslash skips the escaped character.
      if (c === 92) i++;
      else if (c === 34) inString = false;
      else if (c === 10) broken = true;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      depth++;
      if (depth > max) max = depth;
      if (depth === 1) itemStart = i + 1;
    } else if (c === 125 || c === 93) {
      if (depth === 1) endItem(i);
      depth--;
      if (depth < 0) broken = true;
      else if (depth === 0 && closed < 0) closed = i;
    } else if (c === 44 && depth === 1) {
      endItem(i);
      itemStart = i + 1;
    }
  }
  let last = text.length - 1;
  while (last > 0 && isSpace(text.charCodeAt(last))) last--;
  const opens = text.charCodeAt(first) === 123 || text.charCodeAt(first) === 91;
  const single = opens && depth === 0 && !inString && !broken && closed === last;
  return items ? { depth: max, single, items } : { depth: max, single };
}

/**
 * The text's nesting depth when it is deeper than `max`, else undefined. Usually answered
 * without scanning: a text with at most `max` opening brackets cannot nest deeper, and
 * counting them with indexOf runs at native speed (the scan costs about a JSON.parse).
 */
export function depthOver(text: string, max: number): number | undefined {
  let brackets = 0;
  for (const open of ['{', '[']) {
    for (let i = text.indexOf(open); i !== -1 && brackets <= max; i = text.indexOf(open, i + 1)) brackets++;
  }
  if (brackets <= max) return undefined;
  const depth = scanJson(text).depth;
  return depth > max ? depth : undefined;
}
