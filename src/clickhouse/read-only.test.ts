import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedStorage, tableSnapshot } from '../../test/helpers/storage.js';
import type { Reader, StorageClient } from './client.js';
import { PIPE_READER, type ReadOnlyProfile, serverReaderSettings, userSqlReader } from './read-only.js';

// Each write is tried as the very first query of a fresh reader session, then again on a
// session that has already answered reads: neither may change anything. (SYSTEM and KILL
// statements are not writes to data or schema and pass readonly; the SQL guard's statement
// allowlist refuses them: src/sql/guard.test.ts.)
const WRITES = [
  "INSERT INTO t VALUES (1, 'x')",
  'INSERT INTO t SELECT number, toString(number) FROM numbers(10)',
  'DROP TABLE t',
  'TRUNCATE TABLE t',
  'ALTER TABLE t DELETE WHERE 1',
  "ALTER TABLE t UPDATE s = 'y' WHERE 1",
  'ALTER TABLE t DROP COLUMN s',
  'RENAME TABLE t TO t2',
  'CREATE TABLE u (a UInt8) ENGINE = Memory',
  'CREATE VIEW v AS SELECT 1',
  'DETACH TABLE t',
  'OPTIMIZE TABLE t FINAL',
  'SET readonly = 0',
  'SELECT 1; DROP TABLE t',
  'SELECT count() FROM t SETTINGS readonly = 0',
];

// readonly=2 (pipe readers) allows session-local temporary tables; readonly=1 does not.
const USER_SQL_ONLY = ['CREATE TEMPORARY TABLE u (a UInt8)'];

const USER_SQL = userSqlReader({
  maxExecutionSeconds: 7,
  maxResultBytes: 1_000_000,
  maxMemoryBytes: 1_000_000_000,
});

let storage: StorageClient;

const snapshot = () => tableSnapshot(storage.admin);

async function attempt(session: Reader, sql: string): Promise<string> {
  try {
    const r = await session.exec({ query: sql });
    for await (const _ of r.stream) {
      // drain
    }
    return 'ran';
  } catch (err) {
    return (err as Error).message.split('\n')[0] ?? '';
  }
}

beforeAll(async () => {
  storage = await embeddedStorage('fe-readonly-');
  await storage.admin.command({
    query: 'CREATE TABLE t (n UInt64, s String) ENGINE = MergeTree ORDER BY n',
  });
  await storage.admin.command({ query: "INSERT INTO t VALUES (1, 'a'), (2, 'b')" });
});

afterAll(async () => {
  await storage?.close();
});

describe.each([
  ['pipe reader (readonly=2)', PIPE_READER],
  ['user SQL reader (readonly=1)', USER_SQL],
] as [string, ReadOnlyProfile][])('%s', (_name, profile) => {
  const writes = profile.readonly === 1 ? [...WRITES, ...USER_SQL_ONLY] : WRITES;

  it('cannot write on its first query', async () => {
    const before = await snapshot();
    for (const sql of writes) {
      const fresh = await storage.readOnlySession(profile);
      const outcome = await attempt(fresh, sql);
      expect(outcome, sql).not.toBe('ran');
      expect(await snapshot(), sql).toEqual(before);
    }
  });

  it('cannot write on later queries, and still reads', async () => {
    const before = await snapshot();
    const session = await storage.readOnlySession(profile);
    for (const sql of writes) {
      const read = await session.query({ query: 'SELECT count() AS c FROM t', format: 'JSONEachRow' });
      expect(await read.json()).toEqual([{ c: 2 }]);
      expect(await attempt(session, sql), sql).not.toBe('ran');
    }
    expect(await snapshot()).toEqual(before);
  });

  it('leaves the writer session writable', async () => {
    await storage.readOnlySession(profile);
    await storage.admin.command({ query: "INSERT INTO t VALUES (3, 'c')" });
    await storage.admin.command({ query: 'ALTER TABLE t DELETE WHERE n = 3 SETTINGS mutations_sync = 1' });
    const r = await storage.admin.query({ query: 'SELECT count() AS c FROM t', format: 'JSONEachRow' });
    expect(await r.json()).toEqual([{ c: 2 }]);
  });
});

describe('user SQL reader', () => {
  it('pins its limits: a query cannot lift them', async () => {
    const session = await storage.readOnlySession(USER_SQL);
    const r = await session.query({
      query: "SELECT getSetting('max_execution_time') AS t, getSetting('max_result_bytes') AS b",
      format: 'JSONEachRow',
    });
    expect(await r.json()).toEqual([{ t: 7, b: 1000000 }]);
    expect(await attempt(session, 'SELECT 1 SETTINGS max_execution_time = 0')).toMatch(/readonly/i);
  });

  it('refuses a result over its size limit', async () => {
    const session = await storage.readOnlySession(USER_SQL);
    expect(await attempt(session, 'SELECT randomString(1000) FROM numbers(100000)')).toMatch(/limit/i);
  });
});

describe('serverReaderSettings', () => {
  it('sends readonly with every request, with the pinned limits', () => {
    expect(serverReaderSettings(PIPE_READER)).toEqual({ readonly: '2' });
    expect(serverReaderSettings(USER_SQL)).toEqual({
      max_execution_time: '7',
      max_result_bytes: '1000000',
      max_memory_usage: '1000000000',
      readonly: '1',
    });
  });
});
