/**
 * The full bench's sizes and data (scripts/bench/index.ts): how many events at each stage,
 * how long each load runs, and the generator each stage draws its rows from. Every stage
 * file takes what it needs from one Plan, so a --quick run and a full run differ only here.
 */
import { type Generator, makeGenerator } from '../generate-events.js';

export interface Sizes {
  /** Events in store at each stage (cumulative): pipes are measured at each. */
  stages: number[];
  users: number;
  /** Measured NDJSON ingest (1,000-row batches) = stage 1. */
  ingestRows: number;
  kafkaRows: number;
  singleEvents: number;
  freshnessSamples: number;
  loadSeconds: number;
  serialCalls: number;
  serialSeconds: number;
  rawRows: number;
}

const QUICK: Sizes = {
  stages: [200_000],
  users: 20_000,
  ingestRows: 200_000,
  kafkaRows: 100_000,
  singleEvents: 5_000,
  freshnessSamples: 20,
  loadSeconds: 4,
  serialCalls: 30,
  serialSeconds: 4,
  rawRows: 200_000,
};

const FULL: Sizes = {
  stages: [1_000_000, 10_000_000],
  users: 100_000,
  ingestRows: 1_000_000,
  kafkaRows: 1_000_000,
  singleEvents: 30_000,
  freshnessSamples: 60,
  loadSeconds: 10,
  serialCalls: 60,
  serialSeconds: 20,
  rawRows: 1_000_000,
};

export interface Plan {
  mode: 'quick' | 'full';
  sizes: Sizes;
  /** The newest event's time: two minutes before the run, to the second. */
  endMs: number;
  /** Rows added at stage i (the stages are cumulative). */
  stageRows(i: number): number;
  /** Stage i's generator: a fresh one each call, so every consumer of a stage sees the same rows. */
  stageGen(i: number): Generator;
}

export function makePlan(quick: boolean): Plan {
  const sizes = quick ? QUICK : FULL;
  const endMs = Math.floor((Date.now() - 120_000) / 1000) * 1000;
  const stageRows = (i: number) =>
    (sizes.stages[i] as number) - (i === 0 ? 0 : (sizes.stages[i - 1] as number));
  return {
    mode: quick ? 'quick' : 'full',
    sizes,
    endMs,
    stageRows,
    stageGen: (i) => makeGenerator({ seed: 1000 + i, plannedRows: stageRows(i), endMs, users: sizes.users }),
  };
}

/** Concurrent clients in the pipes' and the floor's load runs. */
export const PIPE_CLIENTS = 32;

/** How long and how many calls each latency measurement runs. */
export type Timing = Pick<Sizes, 'loadSeconds' | 'serialCalls' | 'serialSeconds'>;
