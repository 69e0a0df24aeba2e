import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';

/**
 * Inserts JSON lines (one JSONEachRow row each, no trailing newline) as one INSERT.
 * The bytes go to ClickHouse as they are: no parse and re-serialise on this path.
 *
 * dedupToken makes the insert idempotent: ClickHouse remembers recent tokens per table
 * (non_replicated_deduplication_window) and drops a block it has already stored, in the
 * table and, with deduplicate_blocks_in_dependent_materialized_views, in every view target.
 * A retried batch must therefore carry the same token and the same rows.
 */
export async function insertJsonLines(
  client: ClickHouseClient,
  table: string,
  lines: readonly string[],
  dedupToken: string,
): Promise<void> {
  if (lines.length === 0) return;
  const body = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  const result = await client.exec({
    query: `INSERT INTO ${table} FORMAT JSONEachRow`,
    values: Readable.from([body]),
    clickhouse_settings: {
      insert_deduplicate: 1,
      insert_deduplication_token: dedupToken,
      deduplicate_blocks_in_dependent_materialized_views: 1,
      input_format_skip_unknown_fields: 1,
      // One part per month a batch touches (feature_events is partitioned by month, migration
      // 010): 2,000 months cover every timestamp ingest accepts (1970-2106), so no row can make
      // its whole batch fail; a real batch touches a handful (docs/operations.md, Retention).
      max_partitions_per_insert_block: '2000',
      // Cluster profile (a Distributed feature_events): reach every shard, token and all,
      // before returning, so success means stored and a retry is dropped per shard.
      distributed_foreground_insert: 1,
    },
  });
  // Drain the (empty) response so the connection is released.
  result.stream.resume();
  await new Promise<void>((resolve, reject) => {
    result.stream.once('end', resolve);
    result.stream.once('close', resolve);
    result.stream.once('error', reject);
  });
}
