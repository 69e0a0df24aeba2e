import type { Admin, Reader } from './reader.js';

/**
 * How a reader session is locked. Neither level can write or change the schema.
 * - 1: no setting can change either, so limits pinned before it hold (user SQL).
 * - 2: settings may change, except readonly itself (pipe SQL sets per-query SETTINGS).
 */
export interface ReadOnlyProfile {
  readonly: 1 | 2;
  /** Applied before readonly, so that readonly=1 pins them. Names and values are ours, never a user's. */
  settings?: Record<string, number>;
}

/** Pipe readers: their SQL is ours and binds every value, but they cannot write either (defence in depth). */
export const PIPE_READER: ReadOnlyProfile = { readonly: 2 };

export interface UserSqlLimits {
  maxExecutionSeconds: number;
  maxResultBytes: number;
  maxMemoryBytes: number;
}

/** Readers for SQL a user wrote (/v0/sql): read-only, and the limits cannot be lifted by the query. */
export function userSqlReader(limits: UserSqlLimits): ReadOnlyProfile {
  return {
    readonly: 1,
    settings: {
      max_execution_time: limits.maxExecutionSeconds,
      max_result_bytes: limits.maxResultBytes,
      max_memory_usage: limits.maxMemoryBytes,
    },
  };
}

export class ReadOnlySessionError extends Error {
  override name = 'ReadOnlySessionError';
}

/**
 * Locks a fresh chDB session before anyone else can use it. chDB keeps SET values for the
 * rest of a session, so each SET runs as its own statement here, readonly last, and the
 * result is read back: a session that is not read-only is never handed out.
 */
export async function lockChdbSession(session: Admin, profile: ReadOnlyProfile): Promise<void> {
  for (const [name, value] of Object.entries(profile.settings ?? {})) {
    if (!/^[a-z_]+$/.test(name) || !Number.isFinite(value)) {
      throw new ReadOnlySessionError(`bad reader setting ${name}=${value}`);
    }
    await session.command({ query: `SET ${name} = ${value}` });
  }
  await session.command({ query: `SET readonly = ${profile.readonly}` });
  await assertReadOnly(session, profile.readonly);
}

/** Reads the session's readonly setting back; throws unless it is the expected level. */
async function assertReadOnly(session: Reader, level: 1 | 2): Promise<void> {
  const result = await session.query({ query: "SELECT getSetting('readonly') AS r", format: 'JSONEachRow' });
  const [row] = await result.json<{ r: number | string }>();
  if (Number(row?.r) !== level) {
    throw new ReadOnlySessionError(`reader session has readonly=${row?.r}, expected ${level}`);
  }
}

/** The same profile as HTTP settings: a ClickHouse server applies them before it parses each query. */
export function serverReaderSettings(profile: ReadOnlyProfile): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(profile.settings ?? {})) settings[name] = String(value);
  settings.readonly = String(profile.readonly);
  return settings;
}
