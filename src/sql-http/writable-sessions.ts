import type { Session } from '../clickhouse/reader.js';

/**
 * Read-write chDB sessions for the test-only writable listener, reused across requests.
 * chDB keeps a query's settings for the rest of its session, and opening a session is cheap
 * but closing one after a query costs about 20 ms, so sessions are kept and cleaned instead:
 * - settings without `readonly` are applied with the query and reset (SET x = DEFAULT) after;
 * - settings with `readonly` cannot be reset (a read-only session refuses), so such a session
 *   is locked once with exactly those settings and only ever serves that same set again.
 */
export class WritableSessions {
  private readonly idle = new Map<string, Session[]>();

  constructor(private readonly open: () => Session) {}

  /** Runs `fn` on a session that has `settings` in force; the session is clean again afterwards. */
  async with<T>(
    settings: Record<string, string>,
    fn: (session: Session, perQuery: Record<string, string>) => Promise<T>,
  ): Promise<T> {
    const sticky = 'readonly' in settings;
    const key = sticky ? JSON.stringify(Object.entries(settings).sort()) : '';
    let session = this.idle.get(key)?.pop();
    if (!session) {
      session = this.open();
      if (sticky) await lock(session, settings);
    }
    const perQuery = sticky ? {} : settings;
    let clean = false;
    try {
      const result = await fn(session, perQuery);
      clean = await reset(session, Object.keys(perQuery));
      return result;
    } catch (err) {
      clean = await reset(session, Object.keys(perQuery));
      throw err;
    } finally {
      if (clean) this.idle.set(key, [...(this.idle.get(key) ?? []), session]);
      else await session.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    for (const sessions of this.idle.values()) for (const s of sessions) await s.close().catch(() => {});
    this.idle.clear();
  }
}

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

async function lock(session: Session, settings: Record<string, string>): Promise<void> {
  // readonly last: once it is set, nothing else may change.
  const names = Object.keys(settings).sort((a, b) => Number(a === 'readonly') - Number(b === 'readonly'));
  for (const name of names) {
    if (!SETTING_NAME.test(name)) throw new Error(`bad setting name ${name}`);
    const value = String(settings[name]).replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    await session.command({ query: `SET ${name} = '${value}'` });
  }
}

/** Puts every named setting back to its default; false when the session cannot be trusted. */
async function reset(session: Session, names: string[]): Promise<boolean> {
  try {
    for (const name of names.filter((n) => n !== 'default_format')) {
      if (!SETTING_NAME.test(name)) return false;
      await session.command({ query: `SET ${name} = DEFAULT` });
    }
    return true;
  } catch {
    return false;
  }
}
