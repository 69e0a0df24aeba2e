import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedStorage, tableSnapshot } from '../../test/helpers/storage.js';
import type { Reader, StorageClient } from '../clickhouse/client.js';
import { userSqlReader } from '../clickhouse/read-only.js';
import { cachedUserSqlGuard, prepareUserSql, SqlRefused, type UserStatement } from './guard.js';

let storage: StorageClient;
let reader: Reader;
const dir = mkdtempSync(join(tmpdir(), 'fe-guard-'));

async function verdict(text: string): Promise<UserStatement | { refused: 400 | 403; message: string }> {
  try {
    return await prepareUserSql(reader, text);
  } catch (err) {
    if (err instanceof SqlRefused) return { refused: err.status, message: err.message };
    throw err;
  }
}

const tables = () => tableSnapshot(storage.admin);

/** A ClickHouse string literal for any text. */
const literal = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

beforeAll(async () => {
  storage = await embeddedStorage('fe-guard-', dir);
  await storage.admin.command({ query: 'CREATE TABLE t (n UInt64) ENGINE = MergeTree ORDER BY n' });
  await storage.admin.command({ query: 'INSERT INTO t SELECT number FROM numbers(5)' });
  reader = await storage.readOnlySession(
    userSqlReader({ maxExecutionSeconds: 10, maxResultBytes: 10_000_000, maxMemoryBytes: 1_000_000_000 }),
  );
});

afterAll(async () => {
  await storage?.close();
});

describe('prepareUserSql', () => {
  it.each([
    ['SELECT 1', { statement: 'SELECT 1' }],
    ['select 1;', { statement: 'SELECT 1' }],
    ['SELECT 1 ; -- trailing comment', { statement: 'SELECT 1' }],
    ['SELECT 1 /* ; */ ;; ', { statement: 'SELECT 1' }],
    ["SELECT ';' AS s FORMAT CSV", { statement: "SELECT ';' AS s", format: 'CSV' }],
    [
      'SELECT count() FROM t FORMAT JSONEachRow;',
      { statement: 'SELECT count()\nFROM t', format: 'JSONEachRow' },
    ],
    ["SELECT '\nFORMAT CSV' AS s", { statement: "SELECT '\\nFORMAT CSV' AS s" }],
    ['SELECT 1 FORMAT Null', { statement: 'SELECT 1', format: 'Null' }],
    ['SHOW TABLES FORMAT TSV', { statement: 'SHOW TABLES', format: 'TSV' }],
    ['DESC t', { statement: 'DESCRIBE TABLE t' }],
    ['EXISTS t', { statement: 'EXISTS TABLE t' }],
    ['EXPLAIN SELECT 1', { statement: 'EXPLAIN\nSELECT 1' }],
    ['WITH 2 AS x SELECT x', { statement: 'WITH\n    2 AS x\nSELECT x' }],
    ['SELECT * FROM numbers(3)', { statement: 'SELECT *\nFROM numbers(3)' }],
  ])('accepts %j as one read statement', async (text, expected) => {
    const { ast, reads, ...rest } = (await verdict(text)) as UserStatement;
    expect(rest).toEqual(expected);
    // The statement's AST comes with it (q over a pipe result checks it further).
    expect(ast?.[0]).toMatch(/^(SelectWithUnionQuery|Show|Describe|Exists|Explain)/);
    expect(reads.select).toBe(/^(select|with)/i.test(text));
  });

  it.each([
    ['SELECT * FROM t', ['t'], false],
    [
      'SELECT a FROM default.t AS x JOIN u USING a WHERE a IN (SELECT b FROM v)',
      ['default.t', 'u', 'v'],
      false,
    ],
    ['SELECT 1 FROM t WHERE a IN u', ['t'], true],
    ['SELECT 1 FROM t WHERE a NOT IN (1, 2)', ['t'], false],
    ["SELECT dictGet('d', 'x', 1)", [], true],
    ["SELECT joinGet('j', 'x', 1) FROM t", ['t'], true],
  ])('names what %j reads: tables %j, opaque %j', async (text, tables, opaque) => {
    const { reads } = (await verdict(text)) as UserStatement;
    expect(reads.tables).toEqual(tables);
    expect(reads.opaque).toBe(opaque);
  });

  it.each([
    ['SELECT 1; DROP TABLE t', 400],
    ['SELECT 1;DROP TABLE t', 400],
    ['SELECT 1 -- c\n; DROP TABLE t', 400],
    ['SELECT 1 /* ; */ ; DROP TABLE t', 400],
    ["SELECT ';' ; DROP TABLE t", 400],
    ['SELECT 1 FORMAT JSON; DROP TABLE t', 400],
    ['SELECT 1; SELECT 2', 400],
    ['SELECT 1 # c\n; TRUNCATE TABLE t', 400],
    ['SELECT $$;$$; DROP TABLE t', 400],
    ['', 400],
    ['  -- only a comment', 400],
    ['SELEC 1', 400],
    ['SELECT 1\0; DROP TABLE t', 400],
    ['DROP TABLE t', 403],
    ['INSERT INTO t VALUES (1); SELECT 1', 403],
    ['INSERT INTO t SELECT * FROM t', 403],
    ['ALTER TABLE t DELETE WHERE 1', 403],
    ['TRUNCATE TABLE t', 403],
    ['SYSTEM STOP MERGES', 403],
    ['KILL QUERY WHERE 1', 403],
    ['SET readonly = 0', 403],
    ['USE system', 403],
    ['OPTIMIZE TABLE t FINAL', 403],
    ['CREATE TEMPORARY TABLE x (a UInt8)', 403],
    ["BACKUP TABLE t TO File('b')", 403],
    ["SELECT * FROM file('/etc/passwd', 'LineAsString')", 403],
    ["SELECT * FROM FiLe('/etc/passwd', 'LineAsString')", 403],
    ["SELECT file('/etc/passwd')", 403],
    ["SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')", 403],
    ["SELECT * FROM remote('127.0.0.1', system.one)", 403],
    ["SELECT * FROM t WHERE n IN (SELECT * FROM file('/etc/passwd', 'LineAsString'))", 403],
    ["SELECT * FROM t INTO OUTFILE 'out.csv'", 403],
    ["SELECT 1 INTO OUTFILE 'out.csv' TRUNCATE FORMAT CSV", 403],
    ["SHOW TABLES INTO OUTFILE 'out.txt'", 403],
  ])('refuses %j with %i, and nothing changes', async (text, status) => {
    const before = await tables();
    const v = await verdict(text);
    expect(v).toMatchObject({ refused: status });
    expect(await tables()).toEqual(before);
    expect(existsSync('out.csv') || existsSync('out.txt') || existsSync(join(dir, 'out.csv'))).toBe(false);
  });

  it('names what it refuses', async () => {
    expect(await verdict('SELECT 1; SELECT 2')).toMatchObject({
      message: expect.stringMatching(/one SQL statement/),
    });
    expect(await verdict('DROP TABLE t')).toMatchObject({ message: expect.stringMatching(/DropQuery/) });
    expect(await verdict("SELECT * FROM file('x')")).toMatchObject({
      message: expect.stringMatching(/file\(\)/),
    });
  });
});

describe('cachedUserSqlGuard', () => {
  it('answers a repeated accepted text without asking ClickHouse, and never remembers a refusal', async () => {
    let calls = 0;
    const counting: Reader = {
      exec: (params) => {
        calls++;
        return reader.exec(params);
      },
      query: (params) => reader.query(params),
    };
    const guard = cachedUserSqlGuard(2);
    const first = await guard(counting, 'SELECT 1 FORMAT CSV');
    const parses = calls;
    expect(parses).toBeGreaterThan(0);
    expect(await guard(counting, 'SELECT 1 FORMAT CSV')).toEqual(first);
    expect(calls).toBe(parses);
    await expect(guard(counting, 'DROP TABLE t')).rejects.toThrow(SqlRefused);
    const afterRefusal = calls;
    await expect(guard(counting, 'DROP TABLE t')).rejects.toThrow(SqlRefused);
    expect(calls).toBeGreaterThan(afterRefusal);
    // the oldest entry leaves once more than 2 are kept
    await guard(counting, 'SELECT 2');
    await guard(counting, 'SELECT 3');
    const before = calls;
    await guard(counting, 'SELECT 1 FORMAT CSV');
    expect(calls).toBeGreaterThan(before);
  });
});

// Generated texts: statements (reads and writes) joined by semicolons, with separators that
// hide semicolons in comments and strings. The guard must count statements as ClickHouse
// does, and nothing may ever change.
const read = fc.oneof(
  fc.constant('SELECT 1'),
  fc.constant('SELECT count() FROM t'),
  fc.constant('SHOW TABLES'),
  fc.string({ maxLength: 12 }).map((s) => `SELECT ${literal(s)} AS s`),
  fc.string({ maxLength: 8 }).map((s) => `SELECT n /* ${s.replace(/\*\//g, '')} */ FROM t`),
);
const write = fc.constantFrom(
  'DROP TABLE t',
  'TRUNCATE TABLE t',
  'INSERT INTO t VALUES (9)',
  'SET readonly = 0',
);
const gap = fc
  .array(fc.constantFrom(' ', '\n', '\t', '\r\n', '-- c; x\n', '/* ; */', '# ;\n', ''), { maxLength: 3 })
  .map((parts) => parts.join(''));

describe('prepareUserSql on generated texts', () => {
  it('refuses every text of two or more statements, and runs none of it', async () => {
    const before = await tables();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.oneof(read, write), gap), { minLength: 2, maxLength: 4 }),
        gap,
        async (parts, lead) => {
          const text = lead + parts.map(([stmt, g]) => `${stmt}${g};${g}`).join('');
          // An INSERT takes the rest of the text as its data: one statement, refused as a write.
          const status = parts[0]?.[0].startsWith('INSERT') ? 403 : 400;
          expect(await verdict(text), text).toMatchObject({ refused: status });
        },
      ),
      { seed: 16, numRuns: 150 },
    );
    expect(await tables()).toEqual(before);
  });

  it('accepts one read statement however it is spelled, and returns the same statement', async () => {
    await fc.assert(
      fc.asyncProperty(read, gap, gap, fc.boolean(), async (stmt, g1, g2, semicolon) => {
        const alone = await verdict(stmt);
        const text = `${g1}${stmt}${g2}${semicolon ? ';' : ''}${g2.includes('--') || g2.includes('#') ? '\n' : ''}`;
        expect(await verdict(text), text).toEqual(alone);
        expect(alone).toHaveProperty('statement');
      }),
      { seed: 16, numRuns: 150 },
    );
  });

  it('passes string values through unchanged (the statement runs and returns them)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 20 }), async (s) => {
        const v = await verdict(`SELECT ${literal(s)} AS s`);
        if (!('statement' in v)) throw new Error(`refused: ${v.message}`);
        const r = await reader.query({ query: v.statement, format: 'JSONEachRow' });
        expect(await r.json()).toEqual([{ s }]);
      }),
      { seed: 16, numRuns: 100 },
    );
  });

  it('answers any text with a verdict, never an unexpected error, and nothing changes', async () => {
    const before = await tables();
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 60 }), async (text) => {
        await verdict(text);
      }),
      { seed: 16, numRuns: 200 },
    );
    expect(await tables()).toEqual(before);
  });
});
