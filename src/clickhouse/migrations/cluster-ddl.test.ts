import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedStorage } from '../../../test/helpers/storage.js';
import type { StorageClient } from '../client.js';
import { readMigrations } from '../migrate.js';
import { ttlStatement } from '../retention/ttl.js';
import {
  ClusterDdlError,
  clusterMigrations,
  clusterStatement,
  shardedTables,
  splitTopLevel,
} from './cluster-ddl.js';

// The cluster profile cannot run here (no Keeper, no second node: chDB refuses Replicated
// tables), so this proves what can be proved without one: ClickHouse's own parser accepts
// every generated statement, and the parsed statements have the cluster's shape.
const DIR = fileURLToPath(new URL('../../../clickhouse', import.meta.url));
const TARGET = { cluster: 'events', database: 'default' };
/** Tables the service inserts into: their sharding key must not depend on chance or time. */
const INSERTED_INTO = ['feature_events', 'feature_events_quarantine'];

let storage: StorageClient;
beforeAll(async () => {
  storage = await embeddedStorage('cluster-ddl-');
});
afterAll(async () => storage?.close());

async function one<T>(query: string, params: Record<string, unknown>): Promise<T> {
  const rs = await storage.admin.query({ query, format: 'JSONEachRow', query_params: params });
  return (await rs.json<T>())[0] as T;
}
/** ClickHouse's canonical text of a statement (throws when ClickHouse cannot parse it). */
const format = async (sql: string) =>
  (await one<{ f: string }>('SELECT formatQuery({q:String}) AS f', { q: sql })).f;
/** The identifiers an expression reads, from ClickHouse's AST of it. */
async function identifiers(expr: string): Promise<string[]> {
  const rs = await storage.admin.query({
    query: `SELECT explain FROM (EXPLAIN AST SELECT ${expr} FROM t)`,
    format: 'JSONEachRow',
  });
  const ast = (await rs.json<{ explain: string }>()).map((r) => r.explain).join('\n');
  return [...ast.matchAll(/^\s*Identifier (\w+)/gm)].map((m) => m[1]!).sort();
}

describe('cluster profile DDL, generated from clickhouse/*.sql', () => {
  const files = readMigrations(DIR);
  const cluster = clusterMigrations(files, TARGET);
  const statements = cluster.flatMap((f) => f.statements.map((s) => ({ file: f.name, s })));

  it('keeps every file, name and checksum', () => {
    expect(cluster.map((f) => [f.name, f.checksum])).toEqual(files.map((f) => [f.name, f.checksum]));
    expect(statements.length).toBeGreaterThan(files.length);
  });

  it('every statement is parsed by ClickHouse and runs ON CLUSTER (DDL) or across shards (back-fills)', async () => {
    for (const { file, s } of statements) {
      const f = await format(s);
      if (/^INSERT/.test(f)) expect(f, file).toMatch(/parallel_distributed_insert_select = 2/);
      else expect(f, `${file}: ${f}`).toMatch(/ ON CLUSTER events\b/);
    }
  });

  it('every table is Replicated* (local) or Distributed over its local table; nothing is left non-replicated', async () => {
    const creates = [];
    for (const { s } of statements) {
      const f = await format(s);
      const m =
        /^CREATE TABLE (?:IF NOT EXISTS )?(\w+) ON CLUSTER events[\s\S]*?ENGINE = (\w+)\(([^)]*)/.exec(f);
      if (m) creates.push({ name: m[1]!, engine: m[2]!, args: m[3]! });
    }
    expect(creates.length).toBeGreaterThan(0);
    for (const c of creates) {
      if (c.name.endsWith('_local')) {
        expect(c.engine, c.name).toMatch(/^Replicated\w*MergeTree$/);
        expect(c.args).toContain(`/clickhouse/tables/{shard}/default/${c.name}`);
        expect(c.args).toContain("'{replica}'");
      } else {
        expect(c.engine, c.name).toBe('Distributed');
        expect(c.args).toContain(`'${c.name}_local'`);
      }
    }
    expect(statements.some(({ s }) => /ENGINE = MergeTree\b/.test(s))).toBe(false);
  });

  it('deduplication stays on: every table that had the non-replicated window has the replicated one', () => {
    for (const f of files)
      for (const s of f.statements.filter((x) => x.includes('non_replicated_deduplication_window'))) {
        const out = clusterStatement(s, TARGET, shardedTables(files)).join('\n');
        expect(out).toMatch(
          /replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800/,
        );
        expect(out).not.toContain('non_replicated');
      }
  });

  it("shards raw events and the per-user rollup by user_id alone (one user's rows on one shard); inserted tables by the row", async () => {
    const keys = new Map<string, string>();
    for (const { s } of statements) {
      const m =
        /^CREATE TABLE (?:IF NOT EXISTS )?(\w+) ON CLUSTER [\s\S]*Distributed\('events', 'default', '\w+', ([\s\S]+)\)$/.exec(
          s,
        );
      if (m) keys.set(m[1]!, m[2]!);
    }
    expect(await identifiers(keys.get('feature_events')!)).toEqual(['user_id']);
    expect(await identifiers(keys.get('feature_usage_by_user')!)).toEqual(['user_id']);
    for (const t of INSERTED_INTO) {
      const ids = await identifiers(keys.get(t)!);
      expect(ids.length, `${t} is sharded by ${keys.get(t)}`).toBeGreaterThan(0);
      expect(keys.get(t)).not.toMatch(/rand|now|insert/i);
    }
    // The key's shard for a user is the same whatever else the row holds.
    const spread = await one<{ n: string }>(
      `SELECT max(c) AS n FROM (SELECT u, uniqExact(${keys.get('feature_events')!.replace(/user_id/g, 'u')} % 2) AS c
       FROM (SELECT toString(number % 97) AS u, number AS other FROM numbers(10000)) GROUP BY u)`,
      {},
    );
    expect(Number(spread.n)).toBe(1);
  });

  it("views read and write their own shard's local tables", () => {
    const locals = new Set(
      statements.flatMap(({ s }) => /^CREATE TABLE (?:IF NOT EXISTS )?(\w+_local) /.exec(s)?.[1] ?? []),
    );
    const views = statements.filter(({ s }) => s.startsWith('CREATE MATERIALIZED VIEW'));
    expect(views.length).toBeGreaterThan(0);
    for (const { s } of views) {
      const to = /\bTO (\w+)/.exec(s)?.[1];
      const from = /\bFROM (\w+)/.exec(s)?.[1];
      expect(locals.has(to!), s).toBe(true);
      expect(locals.has(from!), s).toBe(true);
    }
  });

  it('a statement without a cluster rule is refused with its text, not passed through', () => {
    expect(() =>
      clusterStatement('OPTIMIZE TABLE feature_events FINAL', TARGET, shardedTables(files)),
    ).toThrow(ClusterDdlError);
    expect(() =>
      clusterStatement('ALTER TABLE nowhere ADD COLUMN x UInt8', TARGET, shardedTables(files)),
    ).toThrow(/nowhere is not created/);
  });

  it('generated tables of any shape come out parseable, replicated and on the cluster', async () => {
    const ident = fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/);
    const column = fc.tuple(
      ident,
      fc.constantFrom('String', 'UInt64', "DateTime('UTC')", 'LowCardinality(String)'),
    );
    await fc.assert(
      fc.asyncProperty(
        ident,
        fc.uniqueArray(column, { minLength: 1, maxLength: 5, selector: (c) => c[0] }),
        fc.boolean(),
        fc.constantFrom('MergeTree', 'AggregatingMergeTree', 'ReplacingMergeTree'),
        fc.boolean(),
        async (name, columns, withUser, engine, dedup) => {
          const cols = [
            ...(withUser ? [['user_id', 'String']] : []),
            ...columns.filter((c) => c[0] !== 'user_id'),
          ];
          const sql = `CREATE TABLE IF NOT EXISTS t_${name} (${cols.map((c) => c.join(' ')).join(', ')}) ENGINE = ${engine} ORDER BY tuple()${dedup ? ' SETTINGS non_replicated_deduplication_window = 5' : ''}`;
          const tables = shardedTables([{ name: 'x', checksum: '', statements: [sql] }]);
          const [local, dist] = clusterStatement(sql, TARGET, tables);
          expect(await format(local!)).toMatch(
            new RegExp(`ON CLUSTER events[\\s\\S]*ENGINE = Replicated${engine}\\(`),
          );
          expect(await format(dist!)).toMatch(
            withUser ? /sipHash64\(user_id\)\)$/ : /ENGINE = Distributed\(/,
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it('retention TTLs (set at start, src/clickhouse/retention) go ON CLUSTER to the local tables only', async () => {
    const tables = shardedTables(files);
    for (const days of [0, 90]) {
      const statement = ttlStatement(
        { table: 'feature_events', column: 'timestamp', days },
        'timestamp + toIntervalDay(7)',
      );
      const out = clusterStatement(statement!, TARGET, tables);
      expect(out).toHaveLength(1);
      const f = (await format(out[0]!)).replace(/\s+/g, ' ');
      expect(f).toMatch(/^ALTER TABLE feature_events_local ON CLUSTER events \(?(MODIFY|REMOVE) TTL/);
      expect(f).toContain(days ? 'MODIFY TTL timestamp + toIntervalDay(90)' : 'REMOVE TTL');
    }
  });

  it('splits ALTER operations at top-level commas only', () => {
    const op = fc.oneof(
      fc.stringMatching(/^[A-Z ]{1,8}[a-z]{1,5}$/),
      fc
        .tuple(fc.stringMatching(/^[a-z]{1,5}$/), fc.stringMatching(/^[a-z,( )]{0,8}$/))
        .map(([a, b]) => `${a} CODEC(ZSTD(3), '${b.replace(/[()]/g, '')}')`),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 6 }), (ops) => {
        const trimmed = ops.map((o) => o.trim()).filter(Boolean);
        expect(splitTopLevel(trimmed.join(', '))).toEqual(trimmed);
      }),
    );
  });
});
