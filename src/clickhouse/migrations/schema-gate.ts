import { hostname } from 'node:os';
import type { Config } from '../../config/index.js';
import { retry, sleep } from '../../lib/retry.js';
import type { Log } from '../../log/index.js';
import {
  assertUnchanged,
  defaultHolder,
  MigrationError,
  type MigrationReport,
  migrate,
  readMigrations,
} from '../migrate.js';
import type { Admin } from '../reader.js';
import { ClusterDdlError } from './cluster-ddl.js';
import { isFree, LockLostError, LockTimeoutError, readLock } from './lock.js';
import { type SchemaProfile, schemaProfile } from './profile.js';
import { readSchemaStatus, type SchemaStatus } from './status.js';
import { setWriterState, type WriterState } from './writers.js';

/**
 * What a service role does about the schema at start. A role that migrates (ROLE=all by
 * default) runs the locked runner; every role then waits until no file is pending; a role
 * that inserts rows also takes a writer lease ('writing'), and only goes on once it has seen
 * the migration lock free after saying so (see writers.ts). A role that waited
 * SCHEMA_WAIT_SECONDS in vain exits with what to run.
 */
export class SchemaNotCurrentError extends Error {
  override name = 'SchemaNotCurrentError';
}

export interface SchemaGateOptions {
  client: Admin;
  dir: string;
  profile: SchemaProfile;
  role: string;
  migrateOnStart: boolean;
  /** Inserts rows and so holds a writer lease (a server store: other processes can reach it). */
  leases: boolean;
  waitMs: number;
  log: Log;
  pollMs?: number;
  heartbeatMs?: number;
  /** A lock this quiet is a dead runner's, not a running migration. */
  lockTtlMs?: number;
}

export interface SchemaGate {
  report?: MigrationReport;
  writer: string;
  stop(): Promise<void>;
}

const FINAL = [MigrationError, ClusterDdlError, LockTimeoutError, LockLostError, SchemaNotCurrentError];

export async function openSchemaGate(o: SchemaGateOptions): Promise<SchemaGate> {
  const writer = defaultHolder();
  const deadline = Date.now() + o.waitMs;
  const pollMs = o.pollMs ?? 1_000;
  const files = readMigrations(o.dir);
  let report: MigrationReport | undefined;
  let lastSaid = 0;
  const say = (msg: string, fields: Record<string, unknown>) => {
    if (Date.now() - lastSaid < 10_000) return;
    lastSaid = Date.now();
    o.log('warn', msg, fields);
  };
  // Transient failures (the server not up yet) are retried until the deadline; a refused
  // migration or an edited file is final.
  const attempt = <T>(what: string, fn: () => Promise<T>): Promise<T> =>
    retry(fn, {
      minMs: pollMs,
      maxMs: pollMs,
      retryable: (err) => !FINAL.some((E) => err instanceof E) && Date.now() <= deadline,
      onError: (err) => say(`${what} failed, retrying`, { error: (err as Error).message.slice(0, 200) }),
    });

  if (o.migrateOnStart)
    report = await attempt('migrations', () =>
      migrate(o.client, o.dir, { profile: o.profile, holder: writer }),
    );

  let state: WriterState = 'waiting';
  let timer: NodeJS.Timeout | undefined;
  const lease = { writer, host: hostname(), role: o.role };
  const announce = async (next: WriterState) => {
    state = next;
    await setWriterState(o.client, o.profile, lease, next);
  };

  for (;;) {
    const status = await attempt('schema check', () => readSchemaStatus(o.client, files, o.profile));
    assertUnchanged(status);
    if (status.pending.length === 0 && status.runnerTables) {
      if (!o.leases) break;
      if (!timer) {
        timer = setInterval(
          () => void setWriterState(o.client, o.profile, lease, state).catch(() => {}),
          o.heartbeatMs ?? 5_000,
        );
        timer.unref();
      }
      await attempt('writer lease', () => announce('writing'));
      const lock = await attempt('lock check', () => readLock(o.client, o.profile));
      if (isFree(lock, o.lockTtlMs ?? 60_000)) break;
      await attempt('writer lease', () => announce('waiting'));
      say('a migration is running: waiting for it before writing', {
        holder: lock?.holder,
        epoch: lock?.epoch,
      });
    } else {
      say('waiting for the ClickHouse schema: run `npm run migrate` (docker compose: the migrate service)', {
        pending: status.pending,
      });
    }
    if (Date.now() > deadline) {
      clearInterval(timer);
      throw new SchemaNotCurrentError(notCurrent(status, o.waitMs));
    }
    await sleep(pollMs);
  }
  return {
    report,
    writer,
    async stop() {
      if (!timer) return;
      clearInterval(timer);
      await setWriterState(o.client, o.profile, lease, 'stopped').catch(() => {});
    },
  };
}

function notCurrent(status: SchemaStatus, waitMs: number): string {
  const what =
    status.pending.length > 0
      ? `${status.pending.length} migration(s) pending (${status.pending.join(', ')})`
      : status.runnerTables
        ? 'a migration is still running (the migration lock is held)'
        : "the migration runner's tables are missing";
  return (
    `the ClickHouse schema is not current after waiting ${Math.round(waitMs / 1000)} s: ${what}. ` +
    'Run `npm run migrate` once (docker compose runs it as the migrate service), or set MIGRATE_ON_START=true ' +
    'for this process; see docs/scaling.md.'
  );
}

/** The gate as the service configures it (README: MIGRATE_ON_START, SCHEMA_WAIT_SECONDS, CLICKHOUSE_CLUSTER). */
export function serviceSchemaGate(
  config: Pick<
    Config,
    'ROLE' | 'MIGRATE_ON_START' | 'SCHEMA_WAIT_SECONDS' | 'CLICKHOUSE_CLUSTER' | 'CLICKHOUSE_DATABASE'
  >,
  storage: { admin: Admin; kind: 'server' | 'embedded' },
  dir: string,
  log: Log,
): Promise<SchemaGate> {
  const migrateOnStart =
    config.MIGRATE_ON_START === 'auto' ? config.ROLE === 'all' : config.MIGRATE_ON_START === 'true';
  return openSchemaGate({
    client: storage.admin,
    dir,
    profile: schemaProfile(config),
    role: config.ROLE,
    migrateOnStart,
    // Embedded chDB is this process's alone; the api role produces to Kafka and inserts nothing.
    leases: storage.kind === 'server' && config.ROLE !== 'api',
    waitMs: config.SCHEMA_WAIT_SECONDS * 1000,
    log,
  });
}
