/**
 * The read path's floor and memory, shared by the full bench (index.ts) and read-path.ts:
 * a `SELECT 1` pipe served through the same route, render, cache and JSON output as every
 * pipe (so a pipe's figure reads as a multiple of it), and chDB's own account of its memory.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Service } from './lib.js';

export const FLOOR_PIPE = 'read_floor';
const FLOOR_FILE = `DESCRIPTION >\n    SELECT 1 through the pipes route: the per-query floor.\n\nNODE one\nSQL >\n    SELECT 1 AS one\n\nTYPE endpoint\n`;

/** The checkout's pipes plus the floor pipe, in a temporary directory for PROJECT_DIR. */
export function pipesWithFloor(root: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-pipes-'));
  cpSync(join(root, 'pipes'), dir, { recursive: true });
  writeFileSync(join(dir, `${FLOOR_PIPE}.pipe`), FLOOR_FILE);
  return dir;
}

/**
 * What chDB holds, from its own metrics (MiB): its caches, primary keys in memory, and
 * MemoryTracking (all memory its allocator tracks, caches and running queries included).
 * The rest of the process RSS is Node (heap, the result cache) and the mapped library.
 * Empty when the metrics cannot be read: a breakdown must not fail a run.
 */
export async function memoryBreakdown(svc: Service): Promise<Record<string, number>> {
  try {
    const rows = await svc.sql<{ metric: string; value: number }>(
      `SELECT metric, toFloat64(value) AS value FROM system.metrics
       WHERE metric IN ('MemoryTracking', 'MarkCacheBytes', 'PrimaryIndexCacheBytes', 'UncompressedCacheBytes',
                        'IndexMarkCacheBytes', 'QueryCacheBytes', 'QueryConditionCacheBytes', 'PageCacheBytes',
                        'CompiledExpressionCacheBytes')
       UNION ALL SELECT 'PrimaryKeyBytesInMemory', toFloat64(sum(primary_key_bytes_in_memory)) FROM system.parts WHERE active`,
    );
    return Object.fromEntries(rows.map((r) => [r.metric, Math.round((Number(r.value) / 1048576) * 10) / 10]));
  } catch {
    return {};
  }
}
