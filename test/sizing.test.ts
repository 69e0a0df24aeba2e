import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type BenchFigures, END, START, sizing, withSizing } from '../scripts/sizing/compute.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const latest = JSON.parse(readFileSync(join(ROOT, 'bench/results/latest.json'), 'utf8')) as BenchFigures;
const doc = readFileSync(join(ROOT, 'docs/scaling.md'), 'utf8');

describe('docs/scaling.md sizing table', () => {
  it('is the table computed from the committed bench figures (run `npm run sizing -- --write` after a bench)', () => {
    const block = doc.slice(doc.indexOf(START) + START.length, doc.indexOf(END)).trim();
    expect(block).toBe(sizing(latest));
    expect(withSizing(doc, sizing(latest))).toBe(doc);
  });

  it('follows the measurements: twice the ClickHouse insert rate halves its cost per event', () => {
    const faster = structuredClone(latest);
    faster.details.raw_clickhouse.with_views.eps *= 2;
    const us = (t: string) =>
      Number(/ClickHouse insert cores, summed over shards \(peak × ([\d.]+) µs/.exec(t)?.[1]);
    expect(us(sizing(faster))).toBeCloseTo(us(sizing(latest)) / 2, 0);
  });

  it('shows its arithmetic from the measured inputs', () => {
    const table = sizing(latest);
    expect(table).toContain(`${latest.ingest_ndjson_eps_embedded.toLocaleString('en')} ev/s`);
    expect(table).toContain(`${latest.details.raw_clickhouse.with_views.eps.toLocaleString('en')} ev/s`);
    expect(table).toContain(`${latest.details.ingest.bulk_load_eps.toLocaleString('en')} ev/s per partition`);
    expect(table).toMatch(/\| 100M events\/day \| 1B events\/day \|/);
  });
});
