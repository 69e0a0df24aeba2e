import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TemplateSyntaxError } from '../pipes/errors.js';
import { parseDatasourceFile, splitTopLevel } from './datasource-file.js';
import { createTableSql } from './ddl.js';
import { parseDatasourceBody } from './rows.js';

const FILE = `DESCRIPTION >
    Events.

TOKEN "tracker" APPEND
SCHEMA >
    \`ts\` DateTime \`json:$.timestamp\`,
    \`tags\` Array(String) \`json:$.meta.tags\`,
    \`price\` Decimal(10, 2) \`json:$.price\` DEFAULT 0,
    \`country\` LowCardinality(Nullable(String)) \`json:$.geo.country\`,
    \`n\` UInt8

ENGINE "ReplacingMergeTree"
ENGINE_SORTING_KEY "ts, n"
ENGINE_VER "ts"
ENGINE_TTL "ts + toIntervalDay(30)"
`;

describe('parseDatasourceFile', () => {
  it('reads SCHEMA types with json paths and defaults, ENGINE_* settings and TOKEN lines', () => {
    const ds = parseDatasourceFile('events', FILE);
    expect(ds.columns).toEqual([
      { name: 'ts', type: 'DateTime', jsonPath: ['timestamp'], rest: '' },
      { name: 'tags', type: 'Array(String)', jsonPath: ['meta', 'tags'], rest: '' },
      { name: 'price', type: 'Decimal(10, 2)', jsonPath: ['price'], rest: 'DEFAULT 0' },
      { name: 'country', type: 'LowCardinality(Nullable(String))', jsonPath: ['geo', 'country'], rest: '' },
      { name: 'n', type: 'UInt8', jsonPath: ['n'], rest: '' },
    ]);
    expect(ds.tokens).toEqual([{ name: 'tracker', scope: 'APPEND' }]);
    expect(createTableSql(ds)).toContain(
      'ENGINE = ReplacingMergeTree(ts)\nORDER BY (ts, n)\nTTL ts + toIntervalDay(30)',
    );
  });

  it('refuses what it does not know, with the line', () => {
    expect(() => parseDatasourceFile('x', 'SCHEMA >\n    `a` String\nENGINE "Memory"\n')).toThrow(
      /MergeTree family/,
    );
    expect(() => parseDatasourceFile('x', 'SCHEMA >\n    `a` String\nPARTITION x\n')).toThrow(
      /unknown directive "PARTITION"/,
    );
    expect(() => parseDatasourceFile('x', 'DESCRIPTION ok\n')).toThrow(/no SCHEMA/);
    expect(() => parseDatasourceFile('x', 'SCHEMA >\n    `a` String,\n    `a` Int8\n')).toThrow(/twice/);
  });

  it('never fails with anything but a TemplateSyntaxError on generated text', () => {
    const piece = fc.constantFrom(
      'SCHEMA >',
      '    `a` String',
      '    `b` Int8 `json:$.x.y`,',
      'ENGINE "MergeTree"',
      'TOKEN t READ',
      '  ',
      'x',
      '(',
      '`',
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, fc.string()), { maxLength: 12 }), (lines) => {
        try {
          parseDatasourceFile('ds', lines.join('\n'));
        } catch (err) {
          expect(err).toBeInstanceOf(TemplateSyntaxError);
        }
      }),
    );
  });

  it('splits on top-level commas only', () => {
    expect(splitTopLevel("a Decimal(10, 2), b Map(String, Int8), c String DEFAULT 'x,y'")).toEqual([
      'a Decimal(10, 2)',
      'b Map(String, Int8)',
      "c String DEFAULT 'x,y'",
    ]);
  });
});

describe('parseDatasourceBody', () => {
  const ds = parseDatasourceFile('events', FILE);
  it('reads each column at its json path, checks its type, quarantines with the reason', () => {
    const rows = parseDatasourceBody(
      ds,
      Buffer.from(
        [
          '{"timestamp":"2026-11-01T10:00:00Z","meta":{"tags":["a"]},"geo":{},"n":3}',
          '{"timestamp":"nope","meta":{"tags":"a"},"n":"x"}',
          '[1]',
        ].join('\n'),
      ),
    );
    expect(rows.events.map((l) => JSON.parse(l))).toEqual([
      { ts: '2026-11-01 10:00:00', tags: ['a'], country: null, n: 3 },
    ]);
    const q = rows.quarantine.map((l) => JSON.parse(l) as { c__error_column: string[] });
    expect(q.map((r) => r.c__error_column)).toEqual([['ts', 'tags', 'n'], []]);
  });
});
