import type { Reader, Session } from './reader.js';

/**
 * A chDB session hands the partial output of a failed query to the next query on the same
 * session: a query that timed out (max_execution_time), one that passed a result limit
 * after some blocks, or the statements of a multi-statement text before the one that
 * failed. A throw-away query on that session takes it before the error is passed on, so
 * the next caller gets a clean answer. Applied to every chDB session; errors are rare, so
 * the extra query costs nothing on the usual path.
 */
export function drainAfterError(session: Session): Session {
  const onError = async (err: unknown): Promise<never> => {
    await drain(session);
    throw err;
  };
  return {
    query: (params) => session.query(params).catch(onError),
    exec: (params) => session.exec(params).catch(onError),
    command: (params) => session.command(params).catch(onError),
    close: () => session.close(),
  };
}

/** Takes whatever a failed query left on the session behind `reader`. */
export async function drain(reader: Reader): Promise<void> {
  try {
    const r = await reader.exec({ query: 'SELECT 1 FORMAT TSV' });
    for await (const _ of r.stream) {
      // discard
    }
  } catch {
    // nothing to drain
  }
}
