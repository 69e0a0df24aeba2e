import type { ClickHouseClient } from '@clickhouse/client';
import { insertJsonLines } from '../clickhouse/insert.js';
import type { IngestRows } from '../queue/types.js';

export const EVENTS_TABLE = 'feature_events';
export const QUARANTINE_TABLE = 'feature_events_quarantine';

/**
 * One batch, two inserts (quarantine first, then events), each with a token derived from
 * the batch's deterministic identity (spool offsets or Kafka topic/partition/offsets), so
 * replaying the same batch after a crash stores nothing twice.
 */
export async function insertBatch(
  client: ClickHouseClient,
  rows: IngestRows,
  batchId: string,
): Promise<void> {
  await insertJsonLines(client, QUARANTINE_TABLE, rows.quarantine, `${batchId}:q`);
  await insertJsonLines(client, EVENTS_TABLE, rows.events, `${batchId}:e`);
}
