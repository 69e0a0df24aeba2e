import type { Reader } from '../clickhouse/reader.js';
import { QUARANTINE_TABLE } from '../clickhouse/tables.js';

/** The replay ledger (clickhouse/011_quarantine_replays.sql). */
export const REPLAYS_TABLE = 'feature_events_quarantine_replays';

/** A quarantine row's name: what it is, not where it is stored (parts merge and move). */
export const ROW_KEY = 'sipHash64(raw, insertion_date, c__error)';

/** Quarantine rows that no replay has claimed, i.e. the rows still in quarantine. */
export const UNREPLAYED = `${ROW_KEY} NOT IN (SELECT row_key FROM ${REPLAYS_TABLE} WHERE state = 'claimed')`;

export async function assertLedger(client: Reader): Promise<void> {
  const rs = await client.query({
    query:
      'SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name IN {t:Array(String)}',
    query_params: { t: [REPLAYS_TABLE, QUARANTINE_TABLE] },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ n: string }>();
  if (Number(row?.n) < 2)
    throw new Error(`the store has no ${REPLAYS_TABLE} table yet: run \`feature-events migrate\` first`);
}
