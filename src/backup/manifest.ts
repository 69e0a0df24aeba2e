import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { TableEntry } from './inventory.js';

/**
 * What a backup folder holds, written last (a folder without it is an unfinished backup):
 * the tables with their exact row counts, which restore checks the restored tables against,
 * and the DATA_DIR files copied beside the ClickHouse backup.
 */
const manifestSchema = z.object({
  format: z.literal(1),
  created_at: z.string(),
  /** 'embedded' chDB or a ClickHouse 'server' (server backups live on the server's disk). */
  source: z.enum(['embedded', 'server']),
  database: z.string(),
  tables: z.array(z.object({ name: z.string(), engine: z.string(), rows: z.number().optional() })),
  /** DATA_DIR files (tokens) kept under files/. */
  files: z.array(z.string()),
});

export type Manifest = z.infer<typeof manifestSchema>;

export const MANIFEST = 'manifest.json';

export function writeManifest(dir: string, m: Manifest): void {
  writeFileSync(join(dir, MANIFEST), `${JSON.stringify(m, null, 2)}\n`);
}

/** Reads and checks a backup's manifest; throws a one-line reason when it is missing or not ours. */
export function readManifest(dir: string): Manifest {
  let text: string;
  try {
    text = readFileSync(join(dir, MANIFEST), 'utf8');
  } catch {
    throw new Error(`${dir} has no ${MANIFEST}: not a finished feature-events backup`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${join(dir, MANIFEST)} is not JSON: ${(err as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(
      `${join(dir, MANIFEST)} is not a backup manifest this version reads: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** Tables whose restored row count differs from the backup's (views hold none and are skipped). */
export function countMismatches(expected: TableEntry[], actual: TableEntry[]): string[] {
  const got = new Map(actual.map((t) => [t.name, t]));
  const out: string[] = [];
  for (const t of expected) {
    const a = got.get(t.name);
    if (!a) out.push(`${t.name}: missing`);
    else if (t.rows !== undefined && a.rows !== t.rows)
      out.push(`${t.name}: ${a.rows} rows, the backup has ${t.rows}`);
  }
  return out;
}
