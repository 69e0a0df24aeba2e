/**
 * Whether a statement destroys or rewrites stored rows: dropping a table or view, emptying
 * or renaming one, deleting rows, or back-filling one from another (INSERT … SELECT). A
 * migration with such a statement is a rebuild: rows written while it runs can be lost (the
 * view was dropped) or counted twice (back-filled and also written by the new view), so the
 * runner refuses it while writers run. Adding tables, views, columns and projections is not.
 *
 * Input: one statement as splitStatements returns it (whole-line comments already removed).
 */
const DESTRUCTIVE: Array<[RegExp, string]> = [
  [/^DROP\s+(TABLE|VIEW|DICTIONARY|DATABASE)\b/, 'drops a table or view'],
  [/^TRUNCATE\b/, 'empties a table'],
  [/^(RENAME|EXCHANGE)\b/, 'renames or swaps tables'],
  [/^DELETE\s+FROM\b/, 'deletes rows'],
  [/^INSERT\s+INTO\b[\s\S]*\bSELECT\b/, 'back-fills a table from a query'],
  [
    /^ALTER\s+TABLE\b[\s\S]*\b(DROP\s+(COLUMN|PARTITION|PART)|DELETE\s+WHERE|UPDATE\b|CLEAR\s+COLUMN|REPLACE\s+PARTITION|MOVE\s+PARTITION)/,
    'drops or rewrites stored rows',
  ],
];

export function destructiveReason(statement: string): string | undefined {
  // Block comments and quoted strings cannot make a statement destructive; drop them first.
  const text = statement
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^'\\]|\\.)*'/g, "''")
    .replace(/--[^\n]*/g, ' ')
    .trim()
    .toUpperCase();
  for (const [pattern, reason] of DESTRUCTIVE) if (pattern.test(text)) return reason;
  return undefined;
}
