import type { ClickHouseClient } from '@clickhouse/client';

/**
 * Counts the inserts made through a client, so readers can tell whether stored data may
 * have changed (the pipe result cache keys its entries to this number). The count moves
 * when an insert starts and again when it ends, failed or not: an insert that reported an
 * error may still have committed, and an answer computed while an insert ran may or may
 * not include its rows.
 */
export interface WriteGeneration {
  client: ClickHouseClient;
  current(): number;
}

export function trackWrites(client: ClickHouseClient): WriteGeneration {
  let generation = 0;
  const exec = client.exec.bind(client);
  const insert = client.insert.bind(client);
  const wrapped = Object.create(client) as ClickHouseClient;
  const around = async <T>(run: () => Promise<T>): Promise<T> => {
    generation++;
    try {
      return await run();
    } finally {
      generation++;
    }
  };
  wrapped.exec = ((params: Parameters<ClickHouseClient['exec']>[0]) =>
    /^\s*INSERT\b/i.test(params.query)
      ? around(() => exec(params))
      : exec(params)) as ClickHouseClient['exec'];
  wrapped.insert = ((params: Parameters<ClickHouseClient['insert']>[0]) =>
    around(() => insert(params))) as ClickHouseClient['insert'];
  return { client: wrapped, current: () => generation };
}
