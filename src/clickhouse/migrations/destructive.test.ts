import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { destructiveReason } from './destructive.js';

const spaced = (words: string[]) =>
  fc
    .tuple(
      fc.array(fc.constantFrom(' ', '\n', '\t', '  '), { minLength: words.length, maxLength: words.length }),
      fc.array(fc.boolean(), { minLength: words.length, maxLength: words.length }),
    )
    .map(([gaps, lower]) => words.map((w, i) => (lower[i] ? w.toLowerCase() : w) + gaps[i]).join(''));
const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}$/);

describe('destructiveReason', () => {
  it('finds drops, truncates, renames, deletes and back-fills in any spacing or case', () => {
    const destructive = fc.oneof(
      fc.tuple(spaced(['DROP', 'TABLE']), name).map(([k, n]) => `${k}${n}`),
      fc.tuple(spaced(['DROP', 'VIEW', 'IF', 'EXISTS']), name).map(([k, n]) => `${k}${n}`),
      fc.tuple(spaced(['TRUNCATE', 'TABLE']), name).map(([k, n]) => `${k}${n}`),
      fc.tuple(spaced(['RENAME', 'TABLE']), name, name).map(([k, a, b]) => `${k}${a} TO ${b}`),
      fc.tuple(spaced(['INSERT', 'INTO']), name, name).map(([k, a, b]) => `${k}${a}\nSELECT * FROM ${b}`),
      fc
        .tuple(spaced(['ALTER', 'TABLE']), name, spaced(['DROP', 'COLUMN']))
        .map(([k, a, d]) => `${k}${a} ${d}x`),
      fc
        .tuple(spaced(['ALTER', 'TABLE']), name, spaced(['DELETE', 'WHERE']))
        .map(([k, a, d]) => `${k}${a} ${d}1`),
    );
    fc.assert(
      fc.property(destructive, (sql) => {
        expect(destructiveReason(sql)).toBeDefined();
      }),
    );
  });

  it('leaves additive statements alone, whatever their names and string literals say', () => {
    const text = fc.stringMatching(/^[a-zA-Z ]{0,20}$/);
    const additive = fc.oneof(
      fc
        .tuple(name, text)
        .map(
          ([n, t]) =>
            `CREATE TABLE IF NOT EXISTS ${n} (x String DEFAULT '${t} DROP TABLE') ENGINE = MergeTree ORDER BY x`,
        ),
      fc
        .tuple(name, name)
        .map(([v, t]) => `CREATE MATERIALIZED VIEW ${v} TO ${t} AS SELECT count() FROM ${t}`),
      fc
        .tuple(name, name)
        .map(([t, c]) => `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS drop_${c} String /* DROP TABLE x */`),
      fc.tuple(name).map(([t]) => `ALTER TABLE ${t} ADD PROJECTION p (SELECT * ORDER BY user_id)`),
      fc.tuple(name).map(([t]) => `ALTER TABLE ${t} MATERIALIZE PROJECTION p SETTINGS mutations_sync = 1`),
    );
    fc.assert(
      fc.property(additive, (sql) => {
        expect(destructiveReason(sql)).toBeUndefined();
      }),
    );
  });
});
