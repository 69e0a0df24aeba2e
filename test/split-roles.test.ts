import { describe, expect, it } from 'vitest';
import { launcher } from './helpers/launcher.js';
import { type MockKafka, startMockKafka } from './helpers/mock-kafka.js';
import { report, settle, startLoad, verify } from './helpers/reliability.js';
import { freePort } from './helpers/service.js';

// The distributed layout, ROLE=api and ROLE=consumer as separate processes with
// CLICKHOUSE_URL, which has no ClickHouse server to run against here: the embedded store's
// SQL listener stands in for one (its test-only writable mode), over real HTTP, with the
// mock Kafka broker between the roles. The consumer is SIGKILLed mid-stream and restarted;
// every acknowledged event must be stored exactly once, in the raw table and every endpoint.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let mock: MockKafka | undefined;
const { start } = launcher(() => mock?.stop());

describe('split roles against the SQL listener', () => {
  it('api and consumer processes, consumer SIGKILLed mid-stream: nothing lost, nothing twice', async () => {
    mock = await startMockKafka({ partitions: 3 });
    const sqlPort = await freePort();
    const store = await start({
      env: { CLICKHOUSE_HTTP_PORT: String(sqlPort), CLICKHOUSE_HTTP_MODE: 'unsafe-writable-for-tests' },
    });
    const roleEnv = (role: string) => ({
      ROLE: role,
      CLICKHOUSE_URL: `http://127.0.0.1:${sqlPort}`,
      CLICKHOUSE_PASSWORD: store.token,
      TB_ADMIN_TOKEN: 'split-roles-admin-token',
      KAFKA_BROKERS: mock!.brokers,
      KAFKA_IDEMPOTENT: 'false',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      BATCH_MAX_WAIT_MS: '100',
      BATCH_MAX_ROWS: '500',
    });
    const api = await start({ env: roleEnv('api') });
    let consumer = await start({ env: roleEnv('consumer') });
    const feature = 'split_roles';
    const load = startLoad({ svc: () => api, feature, prefix: 'split', workers: 3, rows: 10 });
    await sleep(2500);
    const ackedAtKill = load.acked.size;
    const [atKill] = await store.sql<{ c: string }>(
      `SELECT count() AS c FROM feature_events WHERE feature_id = '${feature}'`,
    );
    await consumer.kill(); // mid-stream: batches fetched, inserts in flight, offsets not committed
    // The kill lands while the consumer has acknowledged rows still to store.
    expect(Number(atKill?.c)).toBeLessThan(ackedAtKill);
    const killedOutput = consumer.output();
    await sleep(1000); // the api keeps acknowledging into Kafka while no consumer runs
    consumer = await start({ dataDir: consumer.dataDir, env: roleEnv('consumer') });
    await sleep(2000);
    await load.stop();
    await settle(api, feature, load);
    const v = await verify(api, feature, load);
    report('split-roles', 'api + consumer processes over the SQL listener, consumer SIGKILLed', {
      requests: load.requests,
      resent_requests: load.resends,
      statuses: load.statuses,
      ...v,
    });
    expect(load.acked.size, killedOutput + consumer.output()).toBeGreaterThan(300);
    expect(v.lost).toBe(0);
    expect(v.duplicated).toBe(0);
    expect(v.unexpected).toBe(0);
    expect(v.endpoints_agree, JSON.stringify(v.endpoint_counts)).toBe(true);
    // The rows are in the embedded store itself, not in some other place the roles share.
    const [direct] = await store.sql<{ c: string }>(
      `SELECT uniqExact(event_id) AS c FROM feature_events WHERE feature_id = '${feature}'`,
    );
    expect(Number(direct?.c)).toBe(v.stored);
  }, 420_000);
});
