import { describe, expect, it } from 'vitest';
import { parseDatafile } from './datafile.js';

describe('parseDatafile', () => {
  it('reads description, tags, token and nodes with indented blocks', () => {
    const df = parseDatafile(`DESCRIPTION >
    Line one
    line two

TAGS "a", b
TOKEN "reader" READ

NODE first
DESCRIPTION >
    The first node
SQL >
    %
    SELECT 1

    FROM x

TYPE endpoint
`);
    expect(df.description).toBe('Line one\nline two');
    expect(df.tags).toEqual(['a', 'b']);
    expect(df.tokens).toEqual([{ name: 'reader', scope: 'READ' }]);
    expect(df.nodes).toEqual([
      {
        name: 'first',
        description: 'The first node',
        sql: '%\nSELECT 1\n\nFROM x',
        sqlLine: 12,
        type: 'endpoint',
        settings: {},
        line: 8,
      },
    ]);
  });

  it('keeps the settings of materialized and copy nodes', () => {
    const df = parseDatafile(`NODE m
SQL >
    SELECT 1 AS x
TYPE materialized
DATASOURCE "target_ds"

NODE c
SQL >
    SELECT 2 AS x
TYPE copy
TARGET_DATASOURCE snap
COPY_SCHEDULE 0 * * * *
COPY_MODE replace
`);
    expect(df.nodes.map((n) => [n.type, n.settings])).toEqual([
      ['materialized', { datasource: 'target_ds' }],
      ['copy', { target_datasource: 'snap', copy_schedule: '0 * * * *', copy_mode: 'replace' }],
    ]);
  });

  it('reports the line of what is wrong', () => {
    const at = (text: string) => {
      try {
        parseDatafile(text);
      } catch (e) {
        return [(e as { line: number }).line, (e as Error).message];
      }
      return undefined;
    };
    expect(at('NODE a\nSQL >\n    SELECT 1\nBOGUS x\n')).toEqual([4, 'unknown directive "BOGUS"']);
    expect(at('SQL >\n  SELECT 1\n')?.[0]).toBe(1);
    expect(at('NODE a\nDESCRIPTION x\n')).toEqual([1, 'node "a" has no "SQL >" block']);
    expect(at('NODE a\nSQL >\n    SELECT 1\nNODE a\nSQL >\n    SELECT 2\n')?.[0]).toBe(4);
    expect(at('')).toEqual([1, expect.stringContaining('no NODE')]);
  });
});

describe('INCLUDE', () => {
  const shared = 'NODE bounds\nSQL >\n    SELECT 1 AS x\n';
  it('adds the included nodes where the line stands', () => {
    const df = parseDatafile('INCLUDE "shared.incl"\n\nNODE main\nSQL >\n    SELECT x FROM bounds\n', {
      include: (path) => (path === 'shared.incl' ? shared : ''),
    });
    expect(df.nodes.map((n) => n.name)).toEqual(['bounds', 'main']);
    expect(df.nodes[0]?.sql).toBe('SELECT 1 AS x');
  });

  it('reports a broken include, a clash of node names, and INCLUDE without a reader', () => {
    const main = 'INCLUDE "shared.incl"\nNODE bounds\nSQL >\n    SELECT 2\n';
    expect(() => parseDatafile(main, { include: () => shared })).toThrow(/node "bounds" defined twice/);
    expect(() => parseDatafile(main, { include: () => 'NODE x\n' })).toThrow(
      /INCLUDE "shared.incl":\d*.*no "SQL >" block/,
    );
    expect(() =>
      parseDatafile(main, {
        include: () => {
          throw new Error('ENOENT');
        },
      }),
    ).toThrow(/INCLUDE "shared.incl": ENOENT/);
    expect(() => parseDatafile(main)).toThrow(/INCLUDE is not available/);
  });
});

describe('what a project may not use', () => {
  it('refuses a TYPE other than endpoint, materialized and copy, and INCLUDE with variables, at their line', () => {
    const include = () => 'NODE shared\nSQL >\n    SELECT 1\n';
    for (const [text, error, line] of [
      ['NODE a\nSQL >\n    SELECT 1\nTYPE sink\n', /TYPE sink is not supported/, 4],
      ['NODE a\nSQL >\n    SELECT 1\nTYPE "Stream"\n', /TYPE stream is not supported/, 4],
      ['INCLUDE "x.incl" "VAR=1"\n\nNODE a\nSQL >\n    SELECT 1\n', /INCLUDE with variables/, 1],
    ] as const) {
      let caught: (Error & { line?: number }) | undefined;
      try {
        parseDatafile(text, { include });
      } catch (err) {
        caught = err as Error & { line?: number };
      }
      expect(caught?.message).toMatch(error);
      expect(caught?.line).toBe(line);
    }
    expect(parseDatafile('NODE a\nSQL >\n    SELECT 1\nTYPE Endpoint\n').nodes[0]?.type).toBe('endpoint');
  });
});
