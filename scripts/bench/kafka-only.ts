/**
 * The Kafka stage alone (`node --import tsx scripts/bench/kafka-only.ts [--rows N]`): for working on the Kafka path
 * without the full run's hour. The full run (npm run bench) includes the same stage.
 * --prof DIR writes the service's CPU profile there; --env '{"BATCH_MAX_WAIT_MS":"500"}' passes
 * settings to the service. --root DIR runs another checkout's service (an A/B against an older
 * commit: `git archive <commit> | tar -x -C DIR`, node_modules symlinked) with this harness;
 * --threads logs the service's CPU during the ingest by thread (JS main thread vs chDB's, zlib's).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeGenerator } from '../generate-events.js';
import { BATCH_ROWS, makeBatches } from './ingest.js';
import { measureKafka } from './kafka.js';
import { log } from './lib.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    prof: { type: 'string' },
    'log-level': { type: 'string' },
    env: { type: 'string', default: '{}' },
    root: { type: 'string' },
    threads: { type: 'boolean', default: false },
  },
});
const rows = Number(args.rows);
const dirs: string[] = [];
const cleanups: Array<() => Promise<void>> = [];
const tmp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
try {
  const result = await measureKafka({
    rows,
    batches: makeBatches(
      makeGenerator({ seed: 1000, plannedRows: rows, endMs: Date.now() - 120_000, users: 100_000 }),
      rows,
      BATCH_ROWS,
    ),
    freshnessSamples: 20,
    tmp,
    onServiceOutput: (text) => {
      if (args['log-level']) process.stdout.write(text);
    },
    serviceEnv: {
      ...(JSON.parse(args.env) as Record<string, string>),
      ...(args['log-level'] ? { LOG_LEVEL: args['log-level'] } : {}),
    },
    nodeArgs: args.prof ? ['--cpu-prof', `--cpu-prof-dir=${args.prof}`] : [],
    cleanups,
    root: args.root,
    threads: args.threads,
  });
  log(JSON.stringify(result));
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
