import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEventsBody } from '../src/ingest/index.js';
import { buildRequest, eventsRequest } from './helpers/bad-input-arbitraries.js';

// The body parser alone, over many more generated bodies than the HTTP suite sends: it
// never throws, and files every generated row where its construction says it belongs.
const RUNS = Number(process.env.BAD_INPUT_RUNS ?? 120) * 10;
const SEED = Number(process.env.BAD_INPUT_SEED ?? 17);

describe('parseEventsBody over generated bodies', () => {
  it(`files the valid rows as events and every bad row in quarantine with a reason (${RUNS} bodies)`, () => {
    fc.assert(
      fc.property(eventsRequest, (gen) => {
        const r = buildRequest({ ...gen, gzip: 'no' }, 'p', 't');
        const rows = parseEventsBody(r.body);
        expect(rows.events.map((l) => JSON.parse(l).event_id).sort()).toEqual(r.validIds.sort());
        expect(rows.quarantine).toHaveLength(r.bad);
        for (const q of rows.quarantine) expect(JSON.parse(q).c__error.length).toBeGreaterThan(0);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
