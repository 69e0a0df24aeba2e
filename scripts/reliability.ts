// npm run reliability: runs the fault-injection and bad-input suites (test/faults.test.ts,
// test/bad-input.test.ts, and the generative ones in long mode: BAD_INPUT_RUNS, default
// here 1000 requests per property) and prints their figures. Exits non-zero when a suite
// fails or anything acknowledged was lost or stored twice.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const out = join(mkdtempSync(join(tmpdir(), 'reliability-')), 'figures.jsonl');
const SUITES = [
  'test/faults.test.ts',
  'test/bad-input.test.ts',
  'test/bad-input-generative.test.ts',
  'test/parse-body-generative.test.ts',
];
const runs = process.env.BAD_INPUT_RUNS ?? '1000';
console.log(`running ${SUITES.join(', ')} (BAD_INPUT_RUNS=${runs}; about 6 minutes)...`);
const run = spawnSync('npx', ['vitest', 'run', ...SUITES], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, RELIABILITY_OUT: out, BAD_INPUT_RUNS: runs },
});
const lines = existsSync(out)
  ? readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
  : [];
const n = (v: unknown) => Number(v ?? 0);
let lost = 0;
let duplicated = 0;
console.log('\n== faults ==');
for (const f of lines.filter((l) => l.suite === 'faults')) {
  lost += n(f.lost);
  duplicated += n(f.duplicated);
  console.log(`${f.scenario}
  faults injected: ${n(f.faults_injected)}   requests: ${n(f.requests)} ${JSON.stringify(f.statuses ?? {})}
  events acknowledged: ${n(f.acknowledged)}   stored: ${n(f.stored)}   lost: ${n(f.lost)}   duplicated: ${n(f.duplicated)}
  stored though not acknowledged: ${n(f.stored_unacknowledged)}   endpoints agree with raw: ${f.endpoints_agree} ${JSON.stringify(f.endpoint_counts)}`);
}
console.log('\n== bad input ==');
for (const b of lines.filter((l) => l.suite === 'bad-input')) {
  lost += n(b.lost);
  duplicated += n(b.duplicated);
  console.log(`${b.scenario} in ${n(b.seconds).toFixed(1)} s
  answers by status: ${JSON.stringify(b.statuses)}   5xx or no answer: ${n(b.server_errors)}
  quarantine entries (replied / stored): ${n(b.quarantine_entries_replied)} / ${n(b.quarantine_entries_stored)}
  valid rows mixed in (acknowledged / stored): ${n(b.valid_rows_acknowledged)} / ${n(b.valid_rows_stored)}   lost: ${n(b.lost)}   duplicated: ${n(b.duplicated)}
  connection resets retried: ${n(b.connection_resets_retried)}`);
  for (const [kind, st] of Object.entries((b.by_kind ?? {}) as Record<string, unknown>))
    console.log(`    ${kind.padEnd(34)} ${JSON.stringify(st)}`);
}
console.log('\n== generated bad input ==');
for (const g of lines.filter((l) => l.suite === 'generative')) {
  console.log(
    `${g.scenario}: ${n(g.requests)} requests (seed ${g.seed}) in ${n(g.seconds).toFixed(1)} s   answers: ${JSON.stringify(g.statuses)}`,
  );
  if (g.valid_rows !== undefined)
    console.log(
      `  rows generated: ${n(g.valid_rows)} valid (stored once: ${n(g.valid_rows_stored_once)}), ${n(g.bad_rows)} bad (quarantined with a reason: ${n(g.bad_rows_quarantined)})`,
    );
}
console.log(
  `\nTOTAL lost: ${lost}  duplicated: ${duplicated}  suites: ${run.status === 0 ? 'passed' : 'FAILED'}`,
);
process.exit(run.status === 0 && lost === 0 && duplicated === 0 && lines.length > 0 ? 0 : 1);
