import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createStorageClient } from './clickhouse/index.js';
import { type MigrateProgress, migrate, readMigrations } from './clickhouse/migrate.js';
import { clusterMigrations } from './clickhouse/migrations/cluster-ddl.js';
import { schemaProfile } from './clickhouse/migrations/profile.js';
import { readSchemaStatus } from './clickhouse/migrations/status.js';
import { applyConfiguredRetention } from './clickhouse/retention/index.js';
import { ConfigError, loadConfig } from './config/index.js';

// Entry point of the one-shot migration runner (`npm run migrate`; the `migrate` service in
// docker-compose*.yml). Any number may run at once: the lock in ClickHouse lets one apply.
const USAGE = `usage: npm run migrate [-- --status | --print] [--dir <folder>]
  (no flag)  apply pending clickhouse/*.sql files under the migration lock, then exit
  --status   list applied and pending files; exit 0 if the schema is current, 3 if not
  --print    print the statements for this configuration without connecting
             (CLICKHOUSE_CLUSTER=<name> prints the cluster profile's DDL)
  --dir      the migration files' folder (default: the clickhouse/ folder of this checkout)`;

const say = (line: string) => process.stdout.write(`${line}\n`);
function fail(message: string, code: number): never {
  process.stderr.write(`migrate: ${message}\n`);
  process.exit(code);
}

let args: { status?: boolean; print?: boolean; help?: boolean; dir?: string };
try {
  ({ values: args } = parseArgs({
    options: {
      status: { type: 'boolean' },
      print: { type: 'boolean' },
      dir: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  fail(`${(err as Error).message} (--help lists the flags)`, 2);
}
if (args.help) {
  say(USAGE);
  process.exit(0);
}
let config: ReturnType<typeof loadConfig>;
try {
  // The runner is not a service role; ROLE's split-role checks do not apply to it.
  config = loadConfig({ ...process.env, ROLE: 'all' });
} catch (err) {
  fail(err instanceof ConfigError ? err.message : String(err), 2);
}
const profile = schemaProfile(config);
// Not imported from service/start.ts: the runner loads only the storage code it needs.
const dir = args.dir ?? fileURLToPath(new URL('../clickhouse', import.meta.url));

if (args.print) {
  const files = readMigrations(dir);
  for (const m of profile.kind === 'cluster' ? clusterMigrations(files, profile) : files) {
    say(`-- ${m.name} (checksum ${m.checksum})`);
    for (const s of m.statements) say(`${s};\n`);
  }
  process.exit(0);
}

const storage = await createStorageClient(config).catch((err: Error) =>
  fail(`cannot open storage: ${err.message}`, 1),
);
say(
  `migrate: ${storage.kind === 'embedded' ? 'embedded chDB at' : 'ClickHouse'} ${storage.location}${profile.kind === 'cluster' ? ` (cluster ${profile.cluster})` : ''}`,
);
let code = 0;
try {
  if (args.status) {
    const status = await readSchemaStatus(storage.admin, readMigrations(dir), profile);
    say(`applied: ${status.applied.join(', ') || '(none)'}`);
    say(`pending: ${status.pending.join(', ') || '(none)'}`);
    for (const c of status.changed)
      say(`CHANGED after it was applied: ${c.name} (${c.recorded} -> ${c.current})`);
    if (status.unknown.length) say(`applied by a newer version: ${status.unknown.join(', ')}`);
    code = status.pending.length === 0 && status.changed.length === 0 && status.runnerTables ? 0 : 3;
  } else {
    const started = Date.now();
    let lastWait = 0;
    const progress = (p: MigrateProgress) => {
      if (p.kind === 'waiting' && Date.now() - lastWait > 5_000) {
        lastWait = Date.now();
        say(
          `waiting for the migration lock: held by ${p.lock.holder} (epoch ${p.lock.epoch}, heartbeat ${p.lock.idleMs} ms ago)`,
        );
      } else if (p.kind === 'locked')
        say(`lock taken (epoch ${p.epoch}); pending: ${p.pending.join(', ') || '(none)'}`);
      else if (p.kind === 'statement') say(`  ${p.migration}: statement ${p.index}/${p.total}`);
    };
    const report = await migrate(storage.admin, dir, { profile, onProgress: progress });
    // The configured TTLs (RAW_RETENTION_DAYS, QUARANTINE_RETENTION_DAYS), under the same lock.
    for (const s of await applyConfiguredRetention(storage.admin, config, profile)) say(`  retention: ${s}`);
    say(
      `done in ${((Date.now() - started) / 1000).toFixed(1)} s: applied ${report.applied.length} (${report.applied.join(', ') || 'none'}), already applied ${report.skipped.length}`,
    );
  }
} catch (err) {
  process.stderr.write(`migrate: ${(err as Error).message}\n`);
  code = 1;
} finally {
  await storage.close();
}
process.exit(code);
