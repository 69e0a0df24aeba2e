import type { Config } from '../config/index.js';

/**
 * The V8 old-space limit `npm start`, `npm run consumer` and the Docker image start the service
 * with (`--max-old-space-size`, through NODE_OPTIONS so an operator's own NODE_OPTIONS comes
 * later and wins). Without it V8 lets the heap grow to a quarter of RAM and collects garbage
 * late: in a bulk load the heap stood at 400-500 MiB, mostly garbage, and the process crossed
 * 1 GiB RSS (docs/performance.md, Memory while loading). It must hold what the bounds below
 * allow at once; heapBudget checks that at start. Node reads the flag only at start (a later
 * v8.setFlagsFromString does not move the limit), so it lives in the launch commands.
 */
// Written again, as a number, where the service is launched: package.json (start, consumer)
// and the Dockerfile; test/helpers/service.ts reads this constant. Change all three together.
export const DEFAULT_MAX_OLD_SPACE_MB = 384;

const MiB = 1024 * 1024;

type Bounds = Pick<
  Config,
  | 'INGEST_MAX_INFLIGHT_BYTES'
  | 'SPOOL_MEMORY_BYTES'
  | 'PIPE_CACHE_MAX_BYTES'
  | 'DEDUP_WINDOW'
  | 'BATCH_MAX_ROWS'
>;

/**
 * Heap the configured bounds may fill at once, in bytes, each at what it was measured to
 * cost: a parsed body ~1.15x its bytes as strings plus the parse's garbage (2x counted), the
 * spool's in-memory rows, the pipe cache, ~100 bytes per remembered event_id, a batch being
 * inserted (~300 bytes a row, held as rows and again as the insert's text), and ~64 MiB for the
 * code, pipes and everything small.
 */
export function heapBudget(b: Bounds): number {
  return (
    2 * b.INGEST_MAX_INFLIGHT_BYTES +
    b.SPOOL_MEMORY_BYTES +
    b.PIPE_CACHE_MAX_BYTES +
    100 * b.DEDUP_WINDOW +
    600 * b.BATCH_MAX_ROWS +
    64 * MiB
  );
}

/** A warning when the heap limit is below the budget (the process could die of it), else undefined. */
export function heapWarning(b: Bounds, heapLimitBytes: number): string | undefined {
  const need = heapBudget(b);
  if (need <= heapLimitBytes) return undefined;
  return (
    `Node's heap limit is ${Math.round(heapLimitBytes / MiB)} MiB but the memory bounds allow ~${Math.round(need / MiB)} MiB at once ` +
    '(INGEST_MAX_INFLIGHT_BYTES, SPOOL_MEMORY_BYTES, PIPE_CACHE_MAX_BYTES, DEDUP_WINDOW, BATCH_MAX_ROWS): ' +
    'lower them, or raise the limit with NODE_OPTIONS=--max-old-space-size=<MiB> (docs/operations.md, Memory)'
  );
}
