import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedStorage } from '../../../test/helpers/storage.js';
import { silentLog } from '../../log/index.js';
import type { StorageClient } from '../client.js';
import { migrate, readMigrations } from '../migrate.js';
import { acquireLock } from './lock.js';
import { SINGLE } from './profile.js';
import { openSchemaGate, SchemaNotCurrentError } from './schema-gate.js';
import { activeWriters, setWriterState } from './writers.js';

const REPO_MIGRATIONS = fileURLToPath(new URL('../../../clickhouse', import.meta.url));
/** How many migration files ship (clickhouse/*.sql). */
const SHIPPED = readMigrations(REPO_MIGRATIONS).length;
let storage: StorageClient;
let dir: string;
beforeAll(async () => {
  storage = await embeddedStorage('schema-gate-');
  dir = mkdtempSync(join(tmpdir(), 'gate-migrations-'));
  cpSync(REPO_MIGRATIONS, dir, { recursive: true });
});
afterAll(async () => storage?.close());

const gate = (o: { migrateOnStart?: boolean; leases?: boolean; waitMs?: number }) =>
  openSchemaGate({
    client: storage.admin,
    dir,
    profile: SINGLE,
    role: 'consumer',
    migrateOnStart: o.migrateOnStart ?? false,
    leases: o.leases ?? true,
    waitMs: o.waitMs ?? 400,
    pollMs: 20,
    heartbeatMs: 50,
    log: silentLog,
  });
const lastState = async (writer: string) => {
  const rs = await storage.admin.query({
    query: 'SELECT argMax(state, at) AS s FROM schema_writers WHERE writer = {w:String}',
    format: 'JSONEachRow',
    query_params: { w: writer },
  });
  return (await rs.json<{ s: string }>())[0]?.s;
};

describe('schema gate of a service role', () => {
  it('refuses to start on a store nobody migrated, naming the pending files and what to run', async () => {
    const err = await gate({ waitMs: 100 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(SchemaNotCurrentError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `${SHIPPED} migration\\(s\\) pending \\(001_feature_events\\.sql, .*\\)\\. Run \`npm run migrate\``,
      ),
    );
  });

  it('migrates when it may, then writes under a lease that says so', async () => {
    const g = await gate({ migrateOnStart: true });
    expect(g.report?.applied.length).toBe(SHIPPED);
    expect(await lastState(g.writer)).toBe('writing');
    expect((await activeWriters(storage.admin, SINGLE, 20_000)).map((w) => w.writer)).toContain(g.writer);
    await g.stop();
    expect(await lastState(g.writer)).toBe('stopped');
    expect((await activeWriters(storage.admin, SINGLE, 20_000)).map((w) => w.writer)).not.toContain(g.writer);
  });

  it('a writer that finds a migration running steps back to waiting, and goes on once it ends', async () => {
    const lock = await acquireLock(storage.admin, SINGLE, 'runner-elsewhere');
    const err = await gate({ waitMs: 200 }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/a migration is still running/);
    const opening = gate({ waitMs: 5_000 });
    await new Promise((r) => setTimeout(r, 150));
    await lock.release();
    const g = await opening;
    expect(await lastState(g.writer)).toBe('writing');
    await g.stop();
  });

  it('a rebuild is refused while a writer writes, and names it; runs once it stopped', async () => {
    writeFileSync(
      join(dir, '900_rebuild.sql'),
      'DROP TABLE IF EXISTS rebuilt;\nCREATE TABLE rebuilt (n UInt64) ENGINE = MergeTree ORDER BY n;\nINSERT INTO rebuilt SELECT count() FROM feature_events;\n',
    );
    const lease = { writer: 'w-1', host: 'host-a', role: 'consumer' };
    await setWriterState(storage.admin, SINGLE, lease, 'writing');
    await expect(migrate(storage.admin, dir)).rejects.toThrow(
      /900_rebuild\.sql rebuilds stored rows \(it drops a table or view, back-fills a table from a query\).*consumer w-1 on host-a/,
    );
    // A runner's own lease (ROLE=all migrating at start) does not stop it.
    await expect(migrate(storage.admin, dir, { holder: 'w-1' })).resolves.toMatchObject({
      applied: ['900_rebuild.sql'],
    });
    await setWriterState(storage.admin, SINGLE, lease, 'stopped');
  });

  it('an additive file runs while writers write', async () => {
    writeFileSync(
      join(dir, '901_additive.sql'),
      'CREATE TABLE IF NOT EXISTS additive (n UInt64) ENGINE = MergeTree ORDER BY n;\n',
    );
    await setWriterState(storage.admin, SINGLE, { writer: 'w-2', host: 'h', role: 'consumer' }, 'writing');
    expect((await migrate(storage.admin, dir)).applied).toEqual(['901_additive.sql']);
  });
});
