import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { datasourceOf } from '../types.js';
import { decodeRecords, encodeRecord, HEADER_BYTES } from './record.js';

// A row line is compact JSON from our serialiser: never a raw newline.
const line = fc.string({ unit: 'grapheme' }).map((s) => s.replace(/\n/g, ' '));
const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,30}$/);

/** A record exactly as the encoder wrote it before rows carried their datasource. */
function oldRecord(events: string[], quarantine: string[]): Buffer {
  const payload = Buffer.from(
    events.map((l) => `e${l}\n`).join('') + quarantine.map((l) => `q${l}\n`).join(''),
  );
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(createHash('sha256').update(payload).digest().readUInt32LE(0), 4);
  return Buffer.concat([header, payload]);
}

describe('spool record', () => {
  it('gives back the rows and the datasource it was given', () => {
    fc.assert(
      fc.property(fc.array(line), fc.array(line), fc.option(name, { nil: undefined }), (e, q, ds) => {
        const { records } = decodeRecords(encodeRecord({ events: e, quarantine: q, datasource: ds }), 0);
        expect(records).toHaveLength(1);
        const rows = records[0]!.rows;
        expect(rows.events).toEqual(e);
        expect(rows.quarantine).toEqual(q);
        expect(datasourceOf(rows)).toBe(ds ?? 'feature_events');
      }),
    );
  });

  it('reads a record written before datasources travelled with rows as feature_events', () => {
    fc.assert(
      fc.property(fc.array(line), fc.array(line), (e, q) => {
        const { records } = decodeRecords(oldRecord(e, q), 0);
        expect(records[0]?.rows).toEqual({ events: e, quarantine: q });
        expect(datasourceOf(records[0]!.rows)).toBe('feature_events');
      }),
    );
  });

  it('writes a feature_events record byte for byte as before', () => {
    fc.assert(
      fc.property(fc.array(line), fc.array(line), (e, q) => {
        const old = oldRecord(e, q);
        expect(encodeRecord({ events: e, quarantine: q })).toEqual(old);
        expect(encodeRecord({ events: e, quarantine: q, datasource: 'feature_events' })).toEqual(old);
      }),
    );
  });

  it('refuses a datasource name that could break the record apart', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)),
        (bad) => {
          expect(() => encodeRecord({ events: ['{}'], quarantine: [], datasource: bad })).toThrow(
            /not a datasource name/,
          );
        },
      ),
    );
  });
});
