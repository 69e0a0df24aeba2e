import type { Admin } from '../reader.js';
import { META, metaSettings } from './meta-tables.js';
import { quote, type SchemaProfile } from './profile.js';

/**
 * Leases of the processes that insert rows. A migration that rebuilds a rollup (drops it and
 * back-fills it from the raw table) would lose or double-count rows inserted while it runs,
 * so the runner refuses one while any writer is 'writing'. The handshake is Dekker's: a
 * writer says 'writing' and then looks at the migration lock; the runner takes the lock and
 * then looks at the leases. Whichever acts second sees the other, so they never both go on.
 */

export type WriterState = 'waiting' | 'writing' | 'stopped';

export interface ActiveWriter {
  writer: string;
  host: string;
  role: string;
  ago_ms: number;
}

export async function setWriterState(
  client: Admin,
  profile: SchemaProfile,
  lease: { writer: string; host: string; role: string },
  state: WriterState,
): Promise<void> {
  await client.command({
    query: `INSERT INTO ${META.writers} (writer, host, role, state)${metaSettings(profile, 'insert')} VALUES (${quote(lease.writer)}, ${quote(lease.host)}, ${quote(lease.role)}, ${quote(state)})`,
  });
}

/** Writers whose last heartbeat says 'writing' and is younger than staleMs (ClickHouse's clock). */
export async function activeWriters(
  client: Admin,
  profile: SchemaProfile,
  staleMs: number,
  except?: string,
): Promise<ActiveWriter[]> {
  const rs = await client.query({
    query: `SELECT writer, argMax(host, at) AS host, argMax(role, at) AS role,
                   dateDiff('millisecond', max(at), now64(3)) AS ago_ms
            FROM ${META.writers}
            WHERE writer != {except:String}
            GROUP BY writer
            HAVING argMax(state, at) = 'writing' AND ago_ms <= {stale:UInt64}
            ORDER BY writer${metaSettings(profile, 'select')}`,
    format: 'JSONEachRow',
    query_params: { except: except ?? '', stale: staleMs },
  });
  return (await rs.json<ActiveWriter>()).map((w) => ({ ...w, ago_ms: Number(w.ago_ms) }));
}
