import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BackupLocationError, backupStatement, locationSql } from './location.js';

/** Reads back a SQL string literal the way ClickHouse does (backslash escapes). */
function unquote(literal: string): string {
  expect(literal.startsWith("'") && literal.endsWith("'")).toBe(true);
  let out = '';
  const body = literal.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === '\\') out += body[++i];
    else {
      // An unescaped quote inside would end the literal early: the value would leak into SQL.
      expect(c).not.toBe("'");
      out += c;
    }
  }
  return out;
}

describe('backup location', () => {
  it('quotes any folder so that it reads back as itself and never ends the literal', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => s.trim() !== '' && !/[\0\r\n]/.test(s)),
        (path) => {
          const sql = locationSql({ kind: 'file', path });
          const m = /^File\((.*)\)$/s.exec(sql);
          expect(unquote(m?.[1] ?? '')).toBe(path);
        },
      ),
    );
  });

  it('quotes a disk and a backup name each on its own', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[^\0\r\n]*\S[^\0\r\n]*$/),
        fc.stringMatching(/^[^\0\r\n]*\S[^\0\r\n]*$/),
        (disk, name) => {
          const sql = locationSql({ kind: 'disk', disk, name });
          // Two literals, split at the one ", " that lies between them.
          const inner = sql.slice('Disk('.length, -1);
          const first = inner.match(/^'(?:\\.|[^'\\])*'/)?.[0] ?? '';
          expect(unquote(first)).toBe(disk);
          expect(unquote(inner.slice(first.length + 2))).toBe(name);
        },
      ),
    );
  });

  it('refuses an empty path and one with NUL or a line break, naming what was wrong', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('\0', '\n', '\r'), fc.string(), (a, bad, b) => {
        expect(() => locationSql({ kind: 'file', path: `${a}${bad}${b}` })).toThrow(BackupLocationError);
      }),
    );
    expect(() => locationSql({ kind: 'file', path: '  ' })).toThrow(
      /backup folder: expected a non-empty value/,
    );
  });

  it('builds BACKUP and RESTORE of the database, ON CLUSTER when there is one', () => {
    expect(backupStatement('BACKUP', 'default', { kind: 'file', path: '/b/clickhouse' })).toBe(
      "BACKUP DATABASE default TO File('/b/clickhouse') ASYNC",
    );
    expect(backupStatement('RESTORE', 'events', { kind: 'disk', disk: 'backups', name: 'n1' }, 'c1')).toBe(
      "RESTORE DATABASE events ON CLUSTER 'c1' FROM Disk('backups', 'n1') ASYNC",
    );
    expect(() => backupStatement('BACKUP', 'x; DROP', { kind: 'file', path: '/b' })).toThrow(
      /not a plain name/,
    );
  });
});
