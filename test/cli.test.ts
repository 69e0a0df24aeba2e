import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorLine, runCli } from './helpers/cli.js';

// The `feature-events` command as an operator runs it: the bin launcher in its own process.
// backup/restore: cli-backup.test.ts; quarantine: cli-quarantine.test.ts.
const tmp = mkdtempSync(join(tmpdir(), 'fe-cli-'));

describe('feature-events --help', () => {
  it.each([
    [
      [],
      /Commands:(?=[\s\S]*\bmigrate\b)(?=[\s\S]*\bbackup\b)(?=[\s\S]*\brestore\b)(?=[\s\S]*\bquarantine\b)(?=[\s\S]*\breport\b)(?=[\s\S]*\bgenerate\b)/,
    ],
    [['backup'], /--to <dir>[\s\S]*--disk <name>/],
    [['restore'], /--from <dir>/],
    [['quarantine'], /list[\s\S]*replay/],
    [['quarantine', 'list'], /--limit <n>[\s\S]*--all[\s\S]*--json/],
    [['quarantine', 'replay'], /--batch-rows <n>/],
    [['migrate'], /--status[\s\S]*--print/],
    [['report'], /--week[\s\S]*--host[\s\S]*--token/],
    [['generate'], /--count N[\s\S]*--out FILE/],
  ])('%j --help says what the command takes and exits 0', async (command, pattern) => {
    const run = await runCli([...command, '--help']);
    expect(run.code, run.stderr).toBe(0);
    expect(`${run.stdout}${run.stderr}`).toMatch(pattern);
  });

  it('hides the test-only crash point from the help', async () => {
    const run = await runCli(['quarantine', 'replay', '--help']);
    expect(run.stdout).not.toMatch(/crash/);
  });
});

describe('errors: one line and a non-zero exit', () => {
  it.each([
    [['nonsense'], {}, 1, /unknown command 'nonsense'/],
    [['backup'], {}, 1, /required option '--to <dir>'/],
    [['backup', '--to', 'x', '--bogus'], {}, 1, /unknown option '--bogus'/],
    [['quarantine', 'list', '--limit', '-3'], {}, 1, /--limit.*expected a positive whole number, got "-3"/],
    [['quarantine', 'replay', '--batch-rows', '1.5'], {}, 1, /expected a positive whole number/],
    [['backup', '--to', join(tmp, 'b')], { BATCH_MAX_ROWS: 'lots' }, 2, /BATCH_MAX_ROWS="lots"/],
    [
      ['restore', '--from', join(tmp, 'nothing-here')],
      { DATA_DIR: join(tmp, 'd0') },
      1,
      /no manifest\.json: not a finished feature-events backup/,
    ],
    [['migrate', '--nope'], {}, 2, /Unknown option '--nope'/],
    [['report', '--week', 'soon', '--token', 't'], {}, 1, /--week: expected an ISO week/],
    [
      ['generate', '--count', '10', '--out', join(tmp, 'g.ndjson'), '--users', '0'],
      {},
      1,
      /--users: expected a positive number/,
    ],
    [['generate', '--count', '10', '--users', '-1'], {}, 1, /argument is ambiguous\..*--users=-XYZ/],
  ] as const)('%j', async (args, env, code, pattern) => {
    const run = await runCli([...args], { ...env });
    expect(run.code, run.stderr).toBe(code);
    expect(errorLine(run)).toMatch(pattern);
  });

  it('refuses a backup into a folder that is not empty', async () => {
    const to = join(tmp, 'full');
    mkdirSync(to, { recursive: true });
    writeFileSync(join(to, 'something'), 'x');
    const run = await runCli(['backup', '--to', to], { DATA_DIR: join(tmp, 'd1') });
    expect(run.code).toBe(1);
    expect(errorLine(run)).toBe(
      `feature-events backup: --to ${to}: the folder is not empty; give a new or empty folder`,
    );
  });
});

describe('the wrapped tools', () => {
  it('migrate applies every migration to a new DATA_DIR, and --status then says it is current', async () => {
    const env = { DATA_DIR: join(tmp, 'migrated') };
    const files = readdirSync(new URL('../clickhouse', import.meta.url)).filter((f) => f.endsWith('.sql'));
    const run = await runCli(['migrate'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`applied ${files.length} \\(`));
    const status = await runCli(['migrate', '--status'], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/pending: \(none\)/);
  });

  it('generate writes the rows asked for, in the working directory it was run from, with progress on stderr', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'fe-cli-gen-'));
    const run = await runCli(
      ['generate', '--count', '1234', '--out', 'events.ndjson', '--seed', '7'],
      {},
      cwd,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/writing \[#+\] 100% 1,234\/1,234/);
    const lines = readFileSync(join(cwd, 'events.ndjson'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1234);
    expect(Object.keys(JSON.parse(lines[0] as string))).toEqual(
      expect.arrayContaining(['event_id', 'user_id', 'feature_id', 'timestamp']),
    );
  });
});
