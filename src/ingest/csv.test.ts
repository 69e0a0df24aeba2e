import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvToNdjson } from './csv.js';

const cell = (v: string) => `"${v.replace(/"/g, '""')}"`;

describe('csvToNdjson', () => {
  it('gives each row as an object keyed by the header, whatever the cells hold', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ minLength: 1 }), fc.string({ minLength: 1 })), { maxLength: 20 }),
        (rows) => {
          const csv = `event_id,metadata\n${rows.map(([a, b]) => `${cell(a)},${cell(b)}`).join('\n')}`;
          const out = csvToNdjson(Buffer.from(csv)).toString();
          const parsed = out ? out.split('\n').map((l) => JSON.parse(l)) : [];
          expect(parsed).toEqual(rows.map(([event_id, metadata]) => ({ event_id, metadata })));
        },
      ),
    );
  });

  it('drops empty cells, and says what is wrong with a broken file', () => {
    expect(csvToNdjson(Buffer.from('a,b\n1,\n')).toString()).toBe('{"a":"1"}');
    expect(() => csvToNdjson(Buffer.from('a,b\n"unclosed,1\n'))).toThrow(/CSV file cannot be read/);
  });
});
