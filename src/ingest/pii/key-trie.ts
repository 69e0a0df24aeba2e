/**
 * The deny keys (normalised, keys.ts) as a trie over ASCII, for the scan folded into row
 * validation (string-scan.ts): a key is checked where it stands in the line, without
 * slicing it out, and most keys leave the trie after a character or two ("result" after
 * "res"). Keys with characters outside ASCII are not in it: a line's key can only
 * normalise to one if it has such characters itself, and those the scan leaves to the walk.
 */
export interface DenyKeyTrie {
  /** node * 128 + character → the child node, 0 for none (the root, 0, is nobody's child). */
  next: Int32Array;
  /** 1 where a key ends. */
  end: Uint8Array;
}

export function denyKeyTrie(keys: ReadonlySet<string>): DenyKeyTrie {
  const ascii = [...keys].filter((k) => /^[\x20-\x7e]*$/.test(k));
  const nodes = 1 + ascii.reduce((n, k) => n + k.length, 0);
  const next = new Int32Array(nodes * 128);
  const end = new Uint8Array(nodes);
  let used = 1;
  for (const key of ascii) {
    let node = 0;
    for (let i = 0; i < key.length; i++) {
      const at = node * 128 + key.charCodeAt(i);
      if (next[at] === 0) next[at] = used++;
      node = next[at] as number;
    }
    end[node] = 1;
  }
  return { next, end };
}

/**
 * Whether line[from, to) could be a deny key once parsed and normalised (normalizeKey:
 * lower case, without - _ . and spaces). Trailing backslashes are the escapes of its
 * closing quote. Outside ASCII, toLowerCase can make a letter of something else (the
 * Kelvin sign is a k): such a key is left to the walk (true).
 */
export function mayBeDenyKey(line: string, from: number, to: number, trie: DenyKeyTrie): boolean {
  let last = to;
  while (last > from && line.charCodeAt(last - 1) === 92) last--;
  let node = 0;
  for (let j = from; j < last; j++) {
    let c = line.charCodeAt(j);
    if (c >= 128) return true;
    if (c === 45 || c === 95 || c === 46 || c === 32) continue;
    if (c >= 65 && c <= 90) c += 32;
    node = trie.next[node * 128 + c] as number;
    if (node === 0) return false;
  }
  return trie.end[node] === 1;
}
