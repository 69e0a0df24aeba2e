import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createClient } from '@clickhouse/client';
import type { Config } from '../config/index.js';
import { drainAfterError } from './chdb-drain.js';
import { libraryClient } from './library-client.js';
import { lockChdbSession } from './read-only.js';
import type { Session } from './reader.js';
import type { StorageClient } from './storage.js';
import { chdbStore } from './store.js';

/**
 * Embedded chDB on disk under DATA_DIR/clickhouse, in this process: reads through
 * @clickhouse/client over chDB's connection adapter, one chDB session per Session, each
 * drained after an error (chdb-drain.ts); inserts straight to chDB (store.ts).
 */
export async function chdbStorage(config: Pick<Config, 'DATA_DIR'>): Promise<StorageClient> {
  // Loaded lazily so server mode never loads the 500 MB native library.
  const { createChdbConnection } = await import('chdb/connection');
  const path = resolve(config.DATA_DIR, 'clickhouse');
  mkdirSync(path, { recursive: true });
  const connect = () => {
    const connection = createChdbConnection({ path });
    // chdb's connection type lags the library's Connection interface by a few members it never uses.
    const session = drainAfterError(
      libraryClient(createClient({ connection } as Parameters<typeof createClient>[0])),
    );
    return { connection, session };
  };
  const open = () => connect().session;
  const { connection, session: client } = connect();
  const sessions: Session[] = [];
  return {
    admin: client,
    store: chdbStore(connection, client),
    kind: 'embedded',
    location: path,
    readOnlySession: async (profile) => {
      const s = open();
      sessions.push(s);
      await lockChdbSession(s, profile);
      return s;
    },
    openSession: open,
    close: async () => {
      for (const s of sessions) await s.close();
      await client.close();
      const chdb = (await import('chdb')) as unknown as { drainPending?: () => Promise<void> };
      await chdb.drainPending?.();
    },
  };
}
