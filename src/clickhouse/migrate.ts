import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { clusterMigrations } from './migrations/cluster-ddl.js';
import { destructiveReason } from './migrations/destructive.js';
import { acquireLock, type LockOptions, type LockState } from './migrations/lock.js';
import { ensureMetaTables, META, metaSettings } from './migrations/meta-tables.js';
import { quote, type SchemaProfile, SINGLE } from './migrations/profile.js';
import { readSchemaStatus, type SchemaStatus } from './migrations/status.js';
import { activeWriters } from './migrations/writers.js';
import type { Admin } from './reader.js';

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

export type MigrateProgress =
  | { kind: 'waiting'; lock: LockState }
  | { kind: 'locked'; epoch: number; pending: string[] }
  | { kind: 'statement'; migration: string; index: number; total: number };

export interface MigrateOptions {
  profile?: SchemaProfile;
  /** Who is migrating (shown to waiters and recorded with each file); unique per process by default. */
  holder?: string;
  lock?: LockOptions;
  /** A writer lease younger than this counts as running (see migrations/writers.ts). */
  writerStaleMs?: number;
  onProgress?: (progress: MigrateProgress) => void;
}

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

export const defaultHolder = () => `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

/**
 * Applies each pending migration file once, in order, under the migration lock (held in
 * ClickHouse: migrations/lock.ts), so any number of runners on any number of machines apply
 * each file exactly once. A recorded file whose contents changed is an error: write a new
 * numbered file instead. A file that rebuilds stored rows (migrations/destructive.ts) is
 * refused while writers run. With a cluster profile the statements are the same files'
 * cluster form (migrations/cluster-ddl.ts).
 */
export async function migrate(
  client: Admin,
  dir: string,
  options: MigrateOptions = {},
): Promise<MigrationReport> {
  const profile = options.profile ?? SINGLE;
  const files = readMigrations(dir);
  // Cluster form first: a file without one stops the run before anything is applied.
  const plan = new Map(
    (profile.kind === 'cluster' ? clusterMigrations(files, profile) : files).map((m) => [m.name, m]),
  );
  await ensureMetaTables(client, profile);
  const before = await readSchemaStatus(client, files, profile);
  assertUnchanged(before);
  if (before.pending.length === 0) return { applied: [], skipped: before.applied };

  const holder = options.holder ?? defaultHolder();
  const lock = await acquireLock(client, profile, holder, {
    ...options.lock,
    onWait: (state) => options.onProgress?.({ kind: 'waiting', lock: state }),
  });
  try {
    // Another runner may have applied some or all while this one waited.
    const status = await readSchemaStatus(client, files, profile);
    options.onProgress?.({ kind: 'locked', epoch: lock.epoch, pending: status.pending });
    const report: MigrationReport = { applied: [], skipped: status.applied };
    for (const m of files.filter((f) => status.pending.includes(f.name))) {
      await refuseRebuildWhileWriting(client, profile, m, holder, options.writerStaleMs ?? 20_000);
      const statements = plan.get(m.name)?.statements ?? [];
      for (const [i, statement] of statements.entries()) {
        await lock.assertHeld();
        options.onProgress?.({
          kind: 'statement',
          migration: m.name,
          index: i + 1,
          total: statements.length,
        });
        try {
          await client.command({ query: statement });
        } catch (err) {
          throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`);
        }
      }
      await lock.assertHeld();
      const ins = metaSettings(profile, 'insert');
      await client.command({
        query: `INSERT INTO ${META.migrations} (name, checksum)${ins} VALUES (${quote(m.name)}, ${quote(m.checksum)})`,
      });
      await client.command({
        query: `INSERT INTO ${META.log} (name, checksum, holder, epoch)${ins} VALUES (${quote(m.name)}, ${quote(m.checksum)}, ${quote(holder)}, ${lock.epoch})`,
      });
      report.applied.push(m.name);
    }
    return report;
  } finally {
    await lock.release();
  }
}

/** An applied file edited afterwards would mean two databases built from "the same" file differ. */
export function assertUnchanged(status: SchemaStatus): void {
  const [c] = status.changed;
  if (c)
    throw new MigrationError(
      `migration ${c.name} changed after it was applied (checksum ${c.recorded} -> ${c.current}); add a new numbered file instead`,
    );
}

async function refuseRebuildWhileWriting(
  client: Admin,
  profile: SchemaProfile,
  m: Migration,
  holder: string,
  staleMs: number,
): Promise<void> {
  const reasons = [...new Set(m.statements.map(destructiveReason).filter(Boolean))];
  if (reasons.length === 0) return;
  const writers = await activeWriters(client, profile, staleMs, holder);
  if (writers.length === 0) return;
  const who = writers.map((w) => `${w.role} ${w.writer} on ${w.host} (seen ${w.ago_ms} ms ago)`).join(', ');
  throw new MigrationError(
    `migration ${m.name} rebuilds stored rows (it ${reasons.join(', ')}); rows inserted while it runs ` +
      `would be lost or counted twice, so it does not run while writers run. Running writers: ${who}. ` +
      'Stop them (docker compose stop consumer api), run `npm run migrate` again, then start them.',
  );
}
