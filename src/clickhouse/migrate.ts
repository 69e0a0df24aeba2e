import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';

export interface Migration {
  /** File name, e.g. 001_feature_events.sql; applied in this (lexical) order. */
  name: string;
  checksum: string;
  statements: string[];
}

export interface MigrationReport {
  applied: string[];
  skipped: string[];
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

const MIGRATIONS_TABLE = 'schema_migrations';

/** Splits a SQL file on ";" at line ends, dropping "--" comment lines. */
export function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function readMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_[\w-]+\.sql$/.test(f))
    .sort()
    .map((name) => {
      const text = readFileSync(join(dir, name), 'utf8');
      return {
        name,
        checksum: createHash('sha256').update(text).digest('hex').slice(0, 16),
        statements: splitStatements(text),
      };
    });
}

/**
 * Applies each migration file once, in order, and records it in schema_migrations.
 * Statements use IF NOT EXISTS, so a file interrupted halfway can be re-run safely.
 * A recorded file whose contents changed is an error: write a new numbered file instead.
 */
export async function migrate(client: ClickHouseClient, dir: string): Promise<MigrationReport> {
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
      name String, checksum String, applied_at DateTime('UTC') DEFAULT now()
    ) ENGINE = ReplacingMergeTree ORDER BY name`,
  });
  const result = await client.query({
    query: `SELECT name, any(checksum) AS checksum FROM ${MIGRATIONS_TABLE} GROUP BY name`,
    format: 'JSONEachRow',
  });
  const done = new Map(
    (await result.json<{ name: string; checksum: string }>()).map((r) => [r.name, r.checksum]),
  );
  const report: MigrationReport = { applied: [], skipped: [] };
  for (const m of readMigrations(dir)) {
    const recorded = done.get(m.name);
    if (recorded !== undefined) {
      if (recorded !== m.checksum) {
        throw new MigrationError(
          `migration ${m.name} changed after it was applied (checksum ${recorded} -> ${m.checksum}); add a new numbered file instead`,
        );
      }
      report.skipped.push(m.name);
      continue;
    }
    for (const statement of m.statements) {
      try {
        await client.command({ query: statement });
      } catch (err) {
        throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`);
      }
    }
    await client.insert({
      table: MIGRATIONS_TABLE,
      values: [{ name: m.name, checksum: m.checksum }],
      format: 'JSONEachRow',
    });
    report.applied.push(m.name);
  }
  return report;
}
