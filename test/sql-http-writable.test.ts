import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type ServiceProcess, startServiceProcess } from './helpers/service.js';

// The listener's test-only writable mode: what lets ROLE=api and ROLE=consumer processes
// (CLICKHOUSE_URL) use the embedded store as a ClickHouse server.

const SQL_TOKEN = 'sql-user-token-0123456789';
let svc: ServiceProcess;
let sqlUrl: string;
let admin: ClickHouseClient;

beforeAll(async () => {
  const sqlPort = await freePort();
  svc = await startServiceProcess({
    env: {
      CLICKHOUSE_HTTP_PORT: String(sqlPort),
      CLICKHOUSE_HTTP_MODE: 'unsafe-writable-for-tests',
      TB_TOKENS: `analyst:${SQL_TOKEN}:SQL:READ`,
    },
  });
  sqlUrl = `http://127.0.0.1:${sqlPort}`;
  admin = createClient({ url: sqlUrl, password: svc.token });
});

afterAll(async () => {
  await admin?.close();
  await svc?.stop();
});

const count = async (query: string) => {
  const rs = await admin.query({ query, format: 'JSONEachRow' });
  return Number((await rs.json<{ n: number }>())[0]?.n);
};

describe('writable SQL listener (tests only)', () => {
  it('runs DDL and inserts, and deduplicates by insert_deduplication_token without leaking it', async () => {
    await admin.command({
      query:
        'CREATE TABLE IF NOT EXISTS t (a UInt32, s String) ENGINE = MergeTree ORDER BY a SETTINGS non_replicated_deduplication_window = 100',
    });
    const settings = { insert_deduplicate: 1, insert_deduplication_token: 'batch-1' } as const;
    const rows = [
      { a: 1, s: 'x' },
      { a: 2, s: "it's \\ tab\t" },
    ];
    await admin.insert({ table: 't', values: rows, format: 'JSONEachRow', clickhouse_settings: settings });
    await admin.insert({ table: 't', values: rows, format: 'JSONEachRow', clickhouse_settings: settings });
    expect(await count('SELECT count() AS n FROM t')).toBe(2);
    // Had the token stayed on a session, this different batch would be dropped as a duplicate.
    await admin.insert({ table: 't', values: [{ a: 3, s: 'y' }], format: 'JSONEachRow' });
    await admin.insert({ table: 't', values: [{ a: 4, s: 'z' }], format: 'JSONEachRow' });
    expect(await count('SELECT count() AS n FROM t')).toBe(4);
    const rs = await admin.query({
      query: 'SELECT s FROM t WHERE a = {a:UInt32}',
      query_params: { a: 2 },
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ s: "it's \\ tab\t" }]);
  });

  it('takes a settings-carrying reader (readonly=2) without locking later requests', async () => {
    const reader = createClient({ url: sqlUrl, password: svc.token, clickhouse_settings: { readonly: '2' } });
    try {
      await expect(reader.command({ query: 'DROP TABLE t' })).rejects.toMatchObject({ type: 'READONLY' });
    } finally {
      await reader.close();
    }
    await admin.command({ query: "INSERT INTO t VALUES (5, 'w')" });
    expect(await count('SELECT count() AS n FROM t')).toBe(5);
  });

  it('needs the admin token: a SQL:READ token is refused', async () => {
    const analyst = createClient({ url: sqlUrl, password: SQL_TOKEN });
    try {
      await expect(analyst.query({ query: 'SELECT 1' })).rejects.toMatchObject({
        type: 'AUTHENTICATION_FAILED',
      });
    } finally {
      await analyst.close();
    }
  });
});
