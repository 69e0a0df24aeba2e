import type { ReadOnlyProfile } from './read-only.js';
import type { Admin, Reader, Session } from './reader.js';
import type { Store } from './store.js';

/** What the service gets from the storage seam, in either mode (client.ts picks the adapter). */
export interface StorageClient {
  /** The read-write connection: migrations, the project's DDL, retention, backup. */
  admin: Admin;
  /** The write path's narrow view of the same connection (see store.ts). */
  store: Store;
  /** 'server' over HTTP, or 'embedded' chDB in this process. For logs only. */
  kind: 'server' | 'embedded';
  /** Where the data lives: the server URL or the chDB data directory. */
  location: string;
  /**
   * A reader that cannot write, from its first query on: every reader of this service
   * (pipes, user SQL) gets one. chDB: its own session (chDB keeps SET values per session),
   * locked before it is returned. Server: a client whose every request carries the
   * settings, which the server applies before it parses the query.
   */
  readOnlySession(profile: ReadOnlyProfile): Promise<Reader>;
  /** Embedded only: a new read-write chDB session, closed by the caller (the test-only writable SQL listener). */
  openSession?(): Session;
  close(): Promise<void>;
}
