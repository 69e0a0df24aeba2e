import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { datasourceOf, type IngestRows } from '../queue/types.js';
import { splitByDatasource } from './datasource-rows.js';

const part = fc.record(
  {
    events: fc.array(fc.string(), { maxLength: 3 }),
    quarantine: fc.array(fc.string(), { maxLength: 2 }),
    datasource: fc.constantFrom('feature_events', 'page_views', 'signups'),
  },
  { requiredKeys: ['events', 'quarantine'] },
);

/** The rows of one datasource, in queue order, read straight off the parts. */
const rowsOf = (parts: IngestRows[], ds: string, kind: 'events' | 'quarantine') =>
  parts.filter((p) => datasourceOf(p) === ds).flatMap((p) => p[kind]);

describe('splitByDatasource', () => {
  it('keeps every row once, in queue order, in its own datasource, feature_events first', () => {
    fc.assert(
      fc.property(fc.array(part, { maxLength: 8 }), (parts) => {
        const groups = splitByDatasource(parts);
        const names = groups.map(datasourceOf);
        expect(new Set(names).size).toBe(names.length);
        if (names.includes('feature_events')) expect(names[0]).toBe('feature_events');
        for (const ds of ['feature_events', 'page_views', 'signups']) {
          const g = groups.find((x) => datasourceOf(x) === ds);
          expect(g?.events ?? []).toEqual(rowsOf(parts, ds, 'events'));
          expect(g?.quarantine ?? []).toEqual(rowsOf(parts, ds, 'quarantine'));
          // No empty group: it would be an insert of nothing.
          if (g) expect(g.events.length + g.quarantine.length).toBeGreaterThan(0);
        }
      }),
      // The fast path's edge: one feature_events record of no rows.
      { examples: [[[{ events: [], quarantine: [] }]]], numRuns: 300 },
    );
  });
});
