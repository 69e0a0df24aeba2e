import type { ClickHouseClient } from '@clickhouse/client';

/**
 * A chDB session hands the partial output of a failed query to the next query on the same
 * session: a query that timed out (max_execution_time), one that passed a result limit
 * after some blocks, or the statements of a multi-statement text before the one that
 * failed. A throw-away query on that session takes it before the error is passed on, so
 * the next caller gets a clean answer. Applied to every chDB session; errors are rare, so
 * the extra query costs nothing on the usual path.
 */
export function drainAfterError(session: ClickHouseClient): ClickHouseClient {
  const exec = session.exec.bind(session);
  const query = session.query.bind(session);
  const command = session.command.bind(session);
  const onError = async (err: unknown): Promise<never> => {
    await drainWith(exec);
    throw err;
  };
  const wrapped = Object.create(session) as ClickHouseClient;
  wrapped.exec = ((params: Parameters<ClickHouseClient['exec']>[0]) =>
    exec(params).catch(onError)) as ClickHouseClient['exec'];
  wrapped.query = ((params: Parameters<ClickHouseClient['query']>[0]) =>
    query(params).catch(onError)) as ClickHouseClient['query'];
  wrapped.command = ((params: Parameters<ClickHouseClient['command']>[0]) =>
    command(params).catch(onError)) as ClickHouseClient['command'];
  return wrapped;
}

/** Takes whatever a failed query left on the session behind `client`. */
export const drain = (client: ClickHouseClient): Promise<void> => drainWith(client.exec.bind(client));

async function drainWith(exec: ClickHouseClient['exec']): Promise<void> {
  try {
    const r = await exec({ query: 'SELECT 1 FORMAT TSV' });
    for await (const _ of r.stream) {
      // discard
    }
  } catch {
    // nothing to drain
  }
}
