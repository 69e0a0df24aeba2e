/**
 * What the write path's speed targets leave for our own code on this machine:
 *
 *   node --import tsx scripts/bench/budget.ts [--rows 200000] [--singles 8000] [--cores N]
 *
 * A target of R events/s on C cores allows C × 1e6 / R µs of CPU per event for everything the
 * run puts on the machine. This script measures, in one run, the CPU per event of the parts no
 * implementation of ours can drop, each alone and at the sizes the bench uses:
 *   - driver: the bench's own HTTP client posting the bench's bodies (it shares the machine);
 *   - http: a bare Hono server (@hono/node-server) reading each body and answering 202;
 *   - validation: parseEventsBody over the same bodies, in this process (no PII policy);
 *   - kafkajs: kafkajs producing and consuming the rows packed as ours are, plus the mock
 *     broker's CPU (scripts/bench/kafka.ts' ceiling stage);
 *   - insert: chDB inserting the rows with every view, merges after included
 *     (scripts/bench/insert-cost.ts), in batches of the size the loader would form: full
 *     (BATCH_MAX_ROWS) for NDJSON; for single events what 5,000/s bring in BATCH_MIN_INTERVAL_MS;
 *     for Kafka also what one partition of the bench's 12 receives in 1 s (the freshness target)
 *     and in 5 s (the most the loader waits while busy), as one insert per partition (its
 *     exactly-once unit) holds.
 * Their sum is a floor: it leaves out the spool, the dedup window, GC of our objects and every
 * middleware, and it assumes the cores are shared perfectly. Where the floor is over the budget,
 * the target cannot be reached on this machine by any change to our code; where it is under,
 * what is left is the room our code has. Smaller --rows and --singles than the defaults inflate
 * every figure (a shorter warm-up, start-up costs spread over fewer events).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseEventsBody } from '../../src/ingest/index.js';
import { makeGenerator } from '../generate-events.js';
import { BATCH_CONCURRENCY, BATCH_ROWS, makeBatches, postBatch, SINGLE_CONCURRENCY } from './ingest.js';
import { measureInsertCost } from './insert-cost.js';
import { kafkajsAlone, PARTITIONS } from './kafka.js';
import { cpuSeconds, log, ownCpuSeconds, pool, ROOT, startMockKafka } from './lib.js';
import { startHarness } from './singles-harness.js';

const { values: a } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    singles: { type: 'string', default: '8000' },
    cores: { type: 'string', default: String(availableParallelism()) },
  },
});
const ROWS = Number(a.rows);
const SINGLES = Number(a.singles);
const CORES = Number(a.cores);
const TOKEN = 'p.budget_admin';

const perEvent = (cpuS: number, events: number) => Math.round((cpuS / events) * 1e7) / 10;

const gen = makeGenerator({ seed: 7, plannedRows: ROWS + SINGLES, users: 100_000 });
const batches = makeBatches(gen, ROWS, BATCH_ROWS);
const singles = Array.from({ length: SINGLES }, () => JSON.stringify(gen.next()));

/** parseEventsBody's CPU per event over the bodies; a first pass warms the JIT. */
function validation(bodies: Buffer[], events: number): number {
  for (const b of bodies.slice(0, 20)) parseEventsBody(b);
  const c0 = ownCpuSeconds();
  let rows = 0;
  for (const b of bodies) rows += parseEventsBody(b).events.length;
  if (rows !== events) throw new Error(`validation: ${rows} rows of ${events}`);
  return perEvent(ownCpuSeconds() - c0, events);
}

/** The bench's driver against the bare server: CPU per event of each. */
async function http(bodies: Array<Buffer | string>, events: number, inFlight: number) {
  const dir = mkdtempSync(join(tmpdir(), 'budget-http-'));
  const h = await startHarness('bare', dir, TOKEN);
  try {
    await pool(bodies.slice(0, Math.ceil(bodies.length / 10)), inFlight, (b) => postBatch(h.svc, b)); // warm-up
    const [s0, d0] = [cpuSeconds(h.svc.proc.pid), ownCpuSeconds()];
    await pool(bodies, inFlight, (b) => postBatch(h.svc, b));
    return {
      driver: perEvent(ownCpuSeconds() - d0, events),
      http: perEvent(cpuSeconds(h.svc.proc.pid) - s0, events),
    };
  } finally {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function kafkajs(): Promise<number> {
  const mock = await startMockKafka({ partitions: PARTITIONS, topics: [] });
  try {
    const { cpu } = await kafkajsAlone(mock, batches, ROWS);
    return perEvent(cpu.client_s + cpu.broker_s, ROWS);
  } finally {
    await mock.stop();
  }
}

function insert(batch: number, rows: number) {
  const r = measureInsertCost({ rows, batch, skip: [], merges: true, settings: '', tableSettings: '' });
  return { us: perEvent(r.insert_cpu_s + r.settle_cpu_s, rows), eps: Math.round(rows / r.insert_s) };
}

log(
  `budget: ${ROWS.toLocaleString('en')} rows in ${BATCH_ROWS}-row bodies, ${SINGLES} single events, ${CORES} cores`,
);
const v = {
  ndjson: validation(batches, ROWS),
  single: validation(
    singles.map((s) => Buffer.from(s)),
    SINGLES,
  ),
};
log(`validation: ${v.ndjson} µs/event in NDJSON bodies, ${v.single} µs/event one per body`);
const hN = await http(batches, ROWS, BATCH_CONCURRENCY);
log(
  `NDJSON bodies, ${BATCH_CONCURRENCY} in flight: driver ${hN.driver} µs/event, bare server ${hN.http} µs/event`,
);
const hS = await http(singles, SINGLES, SINGLE_CONCURRENCY);
log(
  `single events, ${SINGLE_CONCURRENCY} in flight: driver ${hS.driver} µs/event, bare server ${hS.http} µs/event`,
);
const k = await kafkajs();
log(`kafkajs produce + consume and the mock broker: ${k} µs/row`);
const TARGET = { kafka: 50_000, singles: 5_000 };
// The loader's batches: full (BATCH_MAX_ROWS) when NDJSON outruns it; at 5,000 single events/s,
// what arrives in BATCH_MIN_INTERVAL_MS (500 ms).
const big = insert(50_000, ROWS);
log(
  `insert, 50,000-row batches: ${big.us} µs/row (merges included); ${big.eps.toLocaleString('en')} rows/s while inserting`,
);
const small = insert(TARGET.singles / 2, Math.min(ROWS, 100_000));
log(`insert, ${TARGET.singles / 2}-row batches: ${small.us} µs/row`);
// Kafka mode inserts each partition's rows under that partition's token (exactly-once per
// partition, docs/kafka.md). At 50,000 ev/s over the bench's PARTITIONS an insert holds what one
// partition receives while it waits: 1 s (the freshness target), or 5 s, the most the loader
// waits while busy (KAFKA_MAX_WAIT_BEHIND_MS; the freshness probe runs at low rates).
const perPartition = [1, 5].map((seconds) => {
  const rows = Math.floor((TARGET.kafka / PARTITIONS) * seconds);
  const cost = insert(rows, Math.min(ROWS, 100_000));
  log(`insert, ${rows}-row batches: ${cost.us} µs/row`);
  return { seconds, ...cost };
});

interface Line {
  target: string;
  events_per_s: number;
  budget_us: number;
  floor: Record<string, number>;
}
const embeddedTarget = Math.round(0.8 * big.eps);
const lines: Line[] = [
  {
    target: 'Kafka NDJSON ≥ 50,000 ev/s, 50,000-row inserts',
    events_per_s: TARGET.kafka,
    budget_us: (CORES * 1e6) / TARGET.kafka,
    floor: { driver: hN.driver, http: hN.http, validation: v.ndjson, kafkajs: k, insert: big.us },
  },
  ...perPartition.map((p) => ({
    target: `Kafka NDJSON ≥ 50,000 ev/s, one insert per partition (${PARTITIONS}) every ${p.seconds} s`,
    events_per_s: TARGET.kafka,
    budget_us: (CORES * 1e6) / TARGET.kafka,
    floor: { driver: hN.driver, http: hN.http, validation: v.ndjson, kafkajs: k, insert: p.us },
  })),
  {
    target: `embedded NDJSON ≥ 0.8 × raw (${embeddedTarget.toLocaleString('en')} ev/s)`,
    events_per_s: embeddedTarget,
    budget_us: (CORES * 1e6) / embeddedTarget,
    floor: { driver: hN.driver, http: hN.http, validation: v.ndjson, insert: big.us },
  },
  {
    target: 'single events ≥ 5,000 ev/s',
    events_per_s: TARGET.singles,
    budget_us: (CORES * 1e6) / TARGET.singles,
    floor: { driver: hS.driver, http: hS.http, validation: v.single, insert: small.us },
  },
];
const out = lines.map((l) => {
  const floor = Object.values(l.floor).reduce((s, x) => s + x, 0);
  return {
    ...l,
    budget_us: Math.round(l.budget_us * 10) / 10,
    floor_us: Math.round(floor * 10) / 10,
    room_us: Math.round((l.budget_us - floor) * 10) / 10,
    // The rate the floor alone would allow on these cores.
    floor_limit_eps: Math.round((CORES * 1e6) / floor),
  };
});
let last: Record<string, unknown> = {};
try {
  last = JSON.parse(readFileSync(join(ROOT, 'bench/results/latest.json'), 'utf8'));
} catch {}
console.log(
  '\n| target | budget µs/event | floor: parts (µs/event) | floor | room for our code | rate the floor allows |',
);
console.log('|---|---|---|---|---|---|');
for (const o of out) {
  const parts = Object.entries(o.floor)
    .map(([k, x]) => `${k} ${x}`)
    .join(', ');
  console.log(
    `| ${o.target} | ${o.budget_us} | ${parts} | ${o.floor_us} | ${o.room_us} | ${o.floor_limit_eps.toLocaleString('en')} ev/s |`,
  );
}
console.log(
  `\nThe last full run (bench/results/latest.json): Kafka ${last.ingest_ndjson_eps_kafka}, embedded ${last.ingest_ndjson_eps_embedded}, single ${last.ingest_single_eps} ev/s.`,
);
process.stdout.write(
  `${JSON.stringify({ cores: CORES, rows: ROWS, singles: SINGLES, raw_eps: big.eps, lines: out })}\n`,
);
process.exit(0);
