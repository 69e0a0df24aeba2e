import type { ClickHouseClient } from '@clickhouse/client';

/**
 * TEST-ONLY fault injection (FAULT_INSERT_FAIL_EVERY=N, default 0 = off): one INSERT in N,
 * on average, fails with a transient error (a seeded pseudo-random pick, so a retry that
 * always makes the same number of inserts is not failed at the same step forever). Odd-numbered faults fail before the insert reaches
 * ClickHouse; even-numbered ones fail *after* it committed (the acknowledgement is "lost"),
 * which is the case that needs the deduplication token. Used by test/faults.test.ts; never
 * set it in production.
 */
export function withInsertFaults(
  client: ClickHouseClient,
  everyN: number,
  onFault?: (n: number) => void,
): ClickHouseClient {
  if (!everyN) return client;
  let seed = 0x2545f491;
  const pick = () => {
    // xorshift32: deterministic per process, no dependency on Math.random
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % everyN === 0;
  };
  let faults = 0;
  const exec = client.exec.bind(client);
  const wrapped = Object.create(client) as ClickHouseClient;
  wrapped.exec = (async (params: Parameters<ClickHouseClient['exec']>[0]) => {
    if (!/^\s*INSERT\b/i.test(params.query) || !pick()) return exec(params);
    faults++;
    onFault?.(faults);
    if (faults % 2 === 1) throw new Error('injected fault: insert failed before reaching ClickHouse');
    const result = await exec(params);
    result.stream.resume();
    await new Promise((r) => {
      result.stream.once('end', r);
      result.stream.once('close', r);
      result.stream.once('error', r);
    });
    throw new Error('injected fault: insert committed but the acknowledgement was lost');
  }) as ClickHouseClient['exec'];
  return wrapped;
}
