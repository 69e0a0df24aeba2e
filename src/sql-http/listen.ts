import type { Server } from 'node:http';
import type { serve as honoServe } from '@hono/node-server';
import type { TokenStore } from '../auth/index.js';
import { readText } from '../clickhouse/read-text.js';
import type { Reader, Session } from '../clickhouse/reader.js';
import type { Log } from '../log/index.js';
import { cachedUserSqlGuard } from '../sql/guard.js';
import { sqlHttpApp } from './app.js';
import { readOnlyExecutor, writableExecutor } from './execute.js';
import { WritableSessions } from './writable-sessions.js';

export type SqlHttpMode = 'readonly' | 'unsafe-writable-for-tests';

export interface SqlHttpListenerOptions {
  port: number;
  host: string;
  mode: SqlHttpMode;
  tokens: TokenStore;
  /** The read-only session of user SQL (the one /v0/sql uses). */
  reader: () => Reader | undefined;
  /** A fresh read-write chDB session (writable mode only). */
  openSession?: () => Session;
  maxBodyBytes: number;
  log: Log;
  serve: typeof honoServe;
}

/** Starts the ClickHouse HTTP interface listener; resolves once it listens. */
export async function startSqlHttpListener(
  opts: SqlHttpListenerOptions,
): Promise<{ close(): Promise<void> }> {
  const reader = opts.reader();
  const version = reader
    ? (await readText((await reader.exec({ query: 'SELECT version() FORMAT TSV' })).stream)).trim()
    : 'unknown';
  const writable = opts.mode === 'unsafe-writable-for-tests';
  if (writable && !opts.openSession) throw new Error('the writable SQL listener needs the embedded store');
  const sessions = writable ? new WritableSessions(opts.openSession as () => Session) : undefined;
  const app = sqlHttpApp({
    tokens: opts.tokens,
    mode: writable ? 'writable' : 'readonly',
    execute: sessions ? writableExecutor(sessions) : readOnlyExecutor(opts.reader, cachedUserSqlGuard()),
    // INSERT data comes in the body in writable mode; a read needs only its text.
    maxBodyBytes: writable ? 512 * 1024 * 1024 : opts.maxBodyBytes,
    version,
    log: opts.log,
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = opts.serve({ fetch: app.fetch, port: opts.port, hostname: opts.host }, () =>
      resolve(s as Server),
    );
    s.once('error', reject);
  });
  if (writable)
    opts.log('warn', 'the SQL listener is WRITABLE (a test-only setting): never use this in production');
  opts.log('info', 'ClickHouse HTTP interface listening', { port: opts.port, mode: opts.mode });
  return {
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, 2000).unref();
      });
      await sessions?.close();
    },
  };
}
