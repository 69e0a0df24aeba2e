import { Command, InvalidArgumentError, Option } from 'commander';
import type { Log } from '../log/index.js';
import { REPLAY_STEPS, type ReplayStep } from '../quarantine/steps.js';
import { runEntryPoint } from './delegate.js';
import { CliError } from './errors.js';
import { cliConfig, openStorage } from './open-storage.js';
import { formatBytes, progressReporter } from './progress.js';

// `feature-events <command>`: the operator's one entry point (bin/feature-events.js).
// Configuration is the service's own (the same environment variables, DATA_DIR or
// CLICKHOUSE_URL); what each command needs of the service is in docs/operations.md.
// A command's modules load when it runs: `--help` and the wrapped tools need none of them.

const out = (line: string) => process.stdout.write(`${line}\n`);
/** Warnings of the modules the commands reuse (the spool loader), as plain lines on stderr. */
const stderrLog: Log = (level, msg, fields) => {
  if (level === 'debug') return;
  process.stderr.write(
    `${level}: ${msg}${fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ''}\n`,
  );
};

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  return n;
}

const STORAGE_NOTE =
  'Embedded mode (no CLICKHOUSE_URL): stop the service first; chDB lets one process open DATA_DIR.';

export function buildProgram(): Command {
  const program = new Command('feature-events')
    .description(
      "Operate a feature-events pipeline. Reads the service's environment (DATA_DIR, CLICKHOUSE_URL, …).",
    )
    .enablePositionalOptions()
    .showSuggestionAfterError(false)
    .configureOutput({ outputError: (s, write) => write(s.split('\n')[0] ? `${s.split('\n')[0]}\n` : s) });

  // The wrapped tools keep their own flags and help text: everything after the command is theirs.
  const wrap = (name: string, entry: string, about: string) =>
    program
      .command(name)
      .description(`${about} (${entry}; \`feature-events ${name} --help\` lists its flags)`)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .passThroughOptions()
      .argument('[args...]')
      .action(async (args: string[]) => {
        process.exitCode = await runEntryPoint(entry, args);
      });
  wrap('migrate', 'src/migrate.ts', 'apply pending clickhouse/*.sql migrations, or --status / --print');
  wrap('report', 'scripts/weekly-report/index.ts', 'write the weekly report from a running service');
  wrap('generate', 'scripts/generate-events.ts', 'generate realistic events to a file or a running service');

  program
    .command('backup')
    .description(
      `back up every table of the service (BACKUP DATABASE), the tokens and a manifest. ${STORAGE_NOTE}`,
    )
    .requiredOption('--to <dir>', 'embedded: a new or empty folder; server: the backup name on --disk')
    .option('--disk <name>', "server only: the server's backup disk (backups.allowed_disk)", 'backups')
    .action(async (opts: { to: string; disk: string }) => {
      const { backup } = await import('../backup/backup.js');
      const s = await backup(cliConfig(), opts, stderrLog);
      out(
        `backed up ${s.tables} tables and views, ${s.rows.toLocaleString('en')} rows (${formatBytes(s.bytes)}) to ${s.location}`,
      );
    });

  program
    .command('restore')
    .description(`restore a backup into an empty store, then check views and row counts. ${STORAGE_NOTE}`)
    .requiredOption('--from <dir>', 'embedded: a folder written by backup; server: the backup name on --disk')
    .option('--disk <name>', "server only: the server's backup disk (backups.allowed_disk)", 'backups')
    .action(async (opts: { from: string; disk: string }) => {
      const { restore } = await import('../backup/restore.js');
      const s = await restore(cliConfig(), opts);
      out(
        `restored ${s.tables} tables and views, ${s.rows.toLocaleString('en')} rows${s.files.length ? `, and ${s.files.join(', ')}` : ''}; row counts match the backup`,
      );
    });

  const quarantine = program
    .command('quarantine')
    .description('rows that failed validation: list them, or replay them once the cause is fixed');
  quarantine
    .command('list')
    .description(`the newest quarantined rows not yet replayed. ${STORAGE_NOTE}`)
    .option('--limit <n>', 'rows to show', positiveInt, 20)
    .option('--all', 'also rows a replay took out, with what it did with them')
    .option('--json', 'one JSON object per line instead of text')
    .action(async (opts: { limit: number; all?: boolean; json?: boolean }) => {
      const { listQuarantine } = await import('../quarantine/list.js');
      const storage = await openStorage(cliConfig());
      try {
        const { total, rows } = await listQuarantine(storage.admin, {
          limit: opts.limit,
          all: opts.all === true,
        });
        process.stderr.write(`${total} rows${opts.all ? '' : ' in quarantine'}; showing ${rows.length}\n`);
        for (const r of rows)
          out(
            opts.json
              ? JSON.stringify(r)
              : `${r.insertion_date}  ${r.replayed ? `[${r.replayed}] ` : ''}${r.c__error.join('; ')}  ${r.raw.length > 200 ? `${r.raw.slice(0, 200)}…` : r.raw}`,
          );
      } finally {
        await storage.close();
      }
    });
  quarantine
    .command('replay')
    .description(
      `re-ingest quarantined rows through the normal validation, exactly once (rows still bad stay, with their reason). ${STORAGE_NOTE}`,
    )
    .option('--batch-rows <n>', 'rows examined per batch', positiveInt, 10_000)
    .addOption(
      new Option('--crash-after <step>', 'TESTS ONLY: die (SIGKILL) after this step of a batch')
        .choices(REPLAY_STEPS)
        .hideHelp(),
    )
    .action(async (opts: { batchRows: number; crashAfter?: ReplayStep }) => {
      const { replayQuarantine } = await import('../quarantine/replay.js');
      const { piiGuardFromConfig } = await import('../ingest/pii/index.js');
      const config = cliConfig();
      const pii = piiGuardFromConfig(config);
      const storage = await openStorage(config);
      try {
        const bar = progressReporter('replay');
        const counts = await replayQuarantine(storage.admin, storage.store, {
          batchRows: opts.batchRows,
          pii,
          onBatch: (c) => bar.update(`${c.examined.toLocaleString('en')} rows examined, ${c.stored} stored`),
          crashAfter: opts.crashAfter,
          crash: () => process.kill(process.pid, 'SIGKILL') as never,
        });
        bar.done(`${counts.examined.toLocaleString('en')} rows examined`);
        out(
          `replayed: ${counts.stored} stored, ${counts.requarantined} quarantined again with a new reason, ${counts.unchanged} still failing for the same reason (left in quarantine)${counts.resumed ? `; finished ${counts.resumed} batch(es) of an interrupted replay` : ''}`,
        );
      } finally {
        await storage.close();
      }
    });
  return program;
}

/** Runs the CLI; every failure is one line on stderr and a non-zero exit. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  // The running command's full name ("quarantine replay"), for the error line.
  let name = '';
  program.hook('preAction', (_, action) => {
    for (let c: Command | null = action; c && c !== program; c = c.parent)
      name = `${c.name()} ${name}`.trim();
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const message = (err as Error).message.replace(/\s*\n\s*/g, ' ');
    process.stderr.write(`feature-events${name ? ` ${name}` : ''}: ${message}\n`);
    process.exitCode = err instanceof CliError ? err.code : 1;
  }
}

await main(process.argv);
