import { parse } from 'csv-parse/sync';
import { BodyError } from './body.js';

/**
 * A CSV upload (a header row naming the columns, then one row per event) as NDJSON bytes for
 * parseEventsBody, so CSV rows go through the same validation and quarantine as JSON ones.
 * An empty cell is an absent value (optional columns then take their default).
 */
export function csvToNdjson(bytes: Buffer): Buffer {
  let records: Record<string, string>[];
  try {
    records = parse(bytes, { columns: true, skip_empty_lines: true, bom: true, relax_column_count: true });
  } catch (err) {
    throw new BodyError(`The CSV file cannot be read: ${(err as Error).message}`, 400);
  }
  const lines = records.map((r) =>
    JSON.stringify(Object.fromEntries(Object.entries(r).filter(([, v]) => v !== '' && v !== undefined))),
  );
  return Buffer.from(lines.join('\n'), 'utf8');
}
