import type { Reader } from './reader.js';

/** Every table of the current database with its column names, from system.columns. */
export async function tableColumns(client: Reader): Promise<Map<string, string[]>> {
  const result = await client.query({
    query:
      'SELECT table, name FROM system.columns WHERE database = currentDatabase() ORDER BY table, position',
    format: 'JSONEachRow',
  });
  const out = new Map<string, string[]>();
  for (const { table, name } of await result.json<{ table: string; name: string }>()) {
    const list = out.get(table) ?? [];
    list.push(name);
    out.set(table, list);
  }
  return out;
}
