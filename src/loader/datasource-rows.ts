import { DEFAULT_DATASOURCE, datasourceOf, type IngestRows } from '../queue/types.js';

/**
 * A queue range's rows (spool records, Kafka messages), one group per datasource, each in
 * queue order: feature_events first, then the others as they first appear. The range stays
 * one unit of the exactly-once protocol (one intent, one token stem); each group is one insert
 * into its datasource's tables. feature_events' group holds its rows in the order of the
 * range, so the dedup window's skip indexes mean the same rows at every replay.
 */
export function splitByDatasource(parts: readonly IngestRows[]): IngestRows[] {
  // The usual range of one feature_events record: no copy.
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only && only.datasource === undefined)
    return only.events.length + only.quarantine.length > 0 ? [only] : [];
  const groups = new Map<string, IngestRows>([
    [DEFAULT_DATASOURCE, { events: [], quarantine: [], datasource: DEFAULT_DATASOURCE }],
  ]);
  for (const p of parts) {
    const ds = datasourceOf(p);
    let g = groups.get(ds);
    if (!g) {
      g = { events: [], quarantine: [], datasource: ds };
      groups.set(ds, g);
    }
    for (const l of p.events) g.events.push(l);
    for (const l of p.quarantine) g.quarantine.push(l);
  }
  return [...groups.values()].filter((g) => g.events.length + g.quarantine.length > 0);
}
