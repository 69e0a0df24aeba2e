import { Readable } from 'node:stream';
import type { Admin } from './reader.js';

/**
 * The INSERT for a block of JSONEachRow lines, idempotent under `dedupToken`: ClickHouse
 * remembers recent tokens per table (non_replicated_deduplication_window) and drops a
 * block it has already stored, in the table and, with
 * deduplicate_blocks_in_dependent_materialized_views, in every view target. A retried
 * batch must therefore carry the same token and the same rows.
 *
 * The settings are in the statement's SETTINGS clause, not sent as client settings: the
 * chDB connection turns client settings into `SET …;` statements before the INSERT, and a
 * multi-statement text costs chDB a second pass over the whole data block (measured on
 * 50k-row blocks with the views: about 35 µs of CPU per row with SET statements, 20 with
 * the clause) and leaves the settings on the session for the next query.
 */
export function insertStatement(table: string, dedupToken: string): string {
  const settings = {
    insert_deduplicate: 1,
    insert_deduplication_token: dedupToken,
    deduplicate_blocks_in_dependent_materialized_views: 1,
    input_format_skip_unknown_fields: 1,
    // One part per month a batch touches (feature_events is partitioned by month, migration
    // 010): 2,000 months cover every timestamp ingest accepts (1970-2106), so no row can make
    // its whole batch fail; a real batch touches a handful (docs/operations.md, Retention).
    max_partitions_per_insert_block: 2000,
    // Cluster profile (a Distributed feature_events): reach every shard, token and all,
    // before returning, so success means stored and a retry is dropped per shard.
    distributed_foreground_insert: 1,
  };
  const clause = Object.entries(settings)
    .map(([k, v]) => `${k} = ${typeof v === 'number' ? v : quote(v)}`)
    .join(', ');
  return `INSERT INTO ${table} SETTINGS ${clause} FORMAT JSONEachRow`;
}

/** The lines (one JSONEachRow row each, no trailing newline) as an INSERT's data block. */
export function insertBody(lines: readonly string[]): string {
  return `${lines.join('\n')}\n`;
}

/**
 * Inserts JSON lines as one INSERT through a session (a ClickHouse server, or chDB in
 * tests). The bytes go to ClickHouse as they are: no parse and re-serialise.
 */
export async function insertJsonLines(
  client: Admin,
  table: string,
  lines: readonly string[],
  dedupToken: string,
): Promise<void> {
  if (lines.length === 0) return;
  const result = await client.exec({
    query: insertStatement(table, dedupToken),
    values: Readable.from([Buffer.from(insertBody(lines), 'utf8')]),
  });
  // Drain the (empty) response so the connection is released.
  result.stream.resume();
  await new Promise<void>((resolve, reject) => {
    result.stream.once('end', resolve);
    result.stream.once('close', resolve);
    result.stream.once('error', reject);
  });
}

/** A ClickHouse string literal on one line: backslash, quote and line breaks escaped. */
function quote(value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/'/g, "\\'")
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\0/g, '\\0');
  return `'${escaped}'`;
}
