import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { launcher } from './helpers/launcher.js';
import { faultKafkaEnv, type MockKafka, startMockKafka } from './helpers/mock-kafka.js';
import { count, report, settle, startLoad, verify } from './helpers/reliability.js';

// Fault injection: after each fault, the raw table and the three endpoints hold exactly the
// acknowledged events (none missing, none twice); rows of unacknowledged requests may or
// may not be there and are counted apart. Figures go to `npm run reliability`.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let mock: MockKafka | undefined;
const { start } = launcher(() => mock?.stop());

function expectExact(v: Awaited<ReturnType<typeof verify>>) {
  expect(v.lost).toBe(0);
  expect(v.duplicated).toBe(0);
  expect(v.unexpected).toBe(0);
  expect(v.endpoint_counts).toEqual({
    raw: v.endpoint_counts.raw,
    feature_usage_summary: v.endpoint_counts.raw,
    feature_usage_timeline: v.endpoint_counts.raw,
    user_feature_usage: v.endpoint_counts.raw,
  });
}

describe('embedded mode', () => {
  it('api SIGKILLed under load, ClickHouse inserts failing, clients re-sending: exact counts', async () => {
    // Every 3rd insert fails (alternately before it reaches ClickHouse and after it committed).
    const env = { BATCH_MAX_WAIT_MS: '300', BATCH_MAX_ROWS: '2000', FAULT_INSERT_FAIL_EVERY: '3' };
    let svc = await start({ env });
    const feature = 'fault_embedded';
    const load = startLoad({ svc: () => svc, feature, prefix: 'emb' });
    await sleep(2500);
    await svc.kill(); // mid-stream: requests in flight, batches in the spool and mid-insert
    let output = svc.output();
    await sleep(300);
    svc = await start({ dataDir: svc.dataDir, env: { ...env, BATCH_MAX_WAIT_MS: '50' } });
    await sleep(1500); // traffic continues on the restarted process
    await load.stop();
    await settle(svc, feature, load);
    const v = await verify(svc, feature, load);
    output += svc.output();
    const insertFaults = count(output, 'injected insert fault');
    report('faults', 'embedded: SIGKILL under load + insert failures + client re-sends', {
      faults_injected: 1 + insertFaults,
      sigkills: 1,
      insert_failures: insertFaults,
      requests: load.requests,
      resent_requests: load.resends,
      statuses: load.statuses,
      ...v,
    });
    expect(load.acked.size).toBeGreaterThan(500);
    expect(insertFaults).toBeGreaterThan(0);
    expectExact(v);
    expect(await svc.stop()).toBe(0);
  }, 150_000);
});

describe('Kafka mode (mock broker)', () => {
  it('produce/fetch errors, broker down, poison messages, consumer SIGKILLed mid-batch: exact counts', async () => {
    mock = await startMockKafka({ partitions: 3 });
    const env = faultKafkaEnv(mock);
    let svc = await start({ env });
    const feature = 'fault_kafka';
    const load = startLoad({ svc: () => svc, feature, prefix: 'kfk' });
    let injected = 0;
    const inject = async (cmd: string) => {
      await mock!.inject(cmd);
      injected++;
    };
    await sleep(1000);
    // Produce (api key 0) and Fetch (api key 1) errors: NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT.
    await inject('err 0 6 3');
    await inject('err 0 7 2');
    await inject('err 1 6 3');
    await inject('err 1 7 2');
    // Poison: messages another producer wrote that ClickHouse cannot parse.
    const raw = new Kafka({ brokers: mock.brokers.split(','), logLevel: logLevel.NOTHING }).producer();
    await raw.connect();
    await raw.send({
      topic: 'feature_events',
      messages: [
        { key: 'poison', value: 'not json at all' },
        {
          key: 'poison',
          value: JSON.stringify({
            event_id: 'poison_ts',
            user_id: 'p',
            feature_id: 'poison',
            product_version: '1',
            event_type: 't',
            timestamp: 'garbage',
          }),
        },
      ],
    });
    await raw.disconnect();
    await sleep(1000);
    await inject('down 1'); // the only broker: produce and fetch both stop
    await sleep(3000);
    await inject('up 1');
    await sleep(2000);
    await svc.kill(); // the consumer (ROLE=all) dies mid-batch, as does the api
    let output = svc.output();
    svc = await start({ dataDir: svc.dataDir, env });
    await sleep(1500);
    await load.stop();
    await settle(svc, feature, load);
    const v = await verify(svc, feature, load);
    output += svc.output();
    const [poison] = await svc.sql<{ c: string }>(
      "SELECT count() AS c FROM feature_events_quarantine WHERE raw = 'not json at all' OR event_id = 'poison_ts'",
    );
    const insertFaults = count(output, 'injected insert fault');
    if (process.env.FAULTS_LOG) (await import('node:fs')).writeFileSync(process.env.FAULTS_LOG, output);
    report('faults', 'kafka: produce/fetch errors + broker down 3 s + poison + SIGKILL + insert failures', {
      faults_injected: injected + 2 + 1 + insertFaults,
      broker_commands: injected,
      poison_messages: 2,
      poison_quarantined: Number(poison?.c),
      sigkills: 1,
      insert_failures: insertFaults,
      requests: load.requests,
      resent_requests: load.resends,
      statuses: load.statuses,
      ...v,
    });
    expect(load.acked.size).toBeGreaterThan(300);
    expect(Number(poison?.c)).toBe(2);
    expectExact(v);

    // Graceful shutdown bound: SIGTERM under load exits 0 within 15 s, nothing acknowledged lost.
    const more = startLoad({ svc: () => svc, feature: 'fault_kafka_term', prefix: 'term' });
    await sleep(1000);
    const t0 = Date.now();
    const code = await svc.stop();
    const stopMs = Date.now() - t0;
    await more.stop();
    svc = await start({ dataDir: svc.dataDir, env: { ...env, FAULT_INSERT_FAIL_EVERY: '0' } });
    await settle(svc, 'fault_kafka_term', more);
    const t = await verify(svc, 'fault_kafka_term', more);
    report('faults', 'kafka: SIGTERM under load', {
      exit_code: code,
      stop_ms: stopMs,
      faults_injected: 1,
      ...t,
    });
    expect(code).toBe(0);
    expect(stopMs).toBeLessThan(15_000);
    expectExact(t);
    expect(await svc.stop()).toBe(0);
  }, 480_000);
});
