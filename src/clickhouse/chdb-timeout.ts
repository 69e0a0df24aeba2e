import type { ClickHouseClient } from '@clickhouse/client';

const TIMEOUT_CODES = new Set(['159', '160']);

/**
 * chDB hands the partial output of a query that timed out (max_execution_time) to the next
 * query on the same session. A throw-away query on that session takes it before the error
 * is passed on, so the next caller gets a clean answer. Applied to every chDB session.
 */
export function drainAfterTimeout(session: ClickHouseClient): ClickHouseClient {
  const exec = session.exec.bind(session);
  const query = session.query.bind(session);
  const onError = async (err: unknown): Promise<never> => {
    const code = (err as { code?: string }).code;
    if (code && TIMEOUT_CODES.has(code)) await drain(exec);
    throw err;
  };
  const wrapped = Object.create(session) as ClickHouseClient;
  wrapped.exec = ((params: Parameters<ClickHouseClient['exec']>[0]) =>
    exec(params).catch(onError)) as ClickHouseClient['exec'];
  wrapped.query = ((params: Parameters<ClickHouseClient['query']>[0]) =>
    query(params).catch(onError)) as ClickHouseClient['query'];
  return wrapped;
}

async function drain(exec: ClickHouseClient['exec']): Promise<void> {
  try {
    const r = await exec({ query: 'SELECT 1 FORMAT TSV' });
    for await (const _ of r.stream) {
      // discard
    }
  } catch {
    // nothing to drain
  }
}
