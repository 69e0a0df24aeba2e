import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Admin, Kafka, logLevel, type Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorageClient, migrate, type StorageClient, type Store } from '../src/clickhouse/index.js';
import { type KafkaLoaderHandle, startKafkaLoader } from '../src/loader/kafka-loader.js';
import { createKafkaSink, type KafkaSinkConfig } from '../src/queue/kafka-sink.js';
import {
  eventLine,
  type MockKafka,
  mockTopics,
  quarantineLine,
  startMockKafka,
  waitFor,
} from './helpers/mock-kafka.js';

// The whole Kafka path against librdkafka's mock broker and embedded chDB (its own data
// directory: chDB binds one per process). Each test has its own topics, group and event_id
// prefix, so tests share the tables without seeing each other's rows.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
let mock: MockKafka;
let storage: StorageClient;
const started: KafkaLoaderHandle[] = [];

beforeAll(async () => {
  mock = await startMockKafka({ topics: [] });
  const dataDir = mkdtempSync(join(tmpdir(), 'fe-kafka-'));
  storage = await createStorageClient({
    DATA_DIR: dataDir,
    CLICKHOUSE_URL: undefined,
    CLICKHOUSE_USER: 'default',
    CLICKHOUSE_PASSWORD: '',
    CLICKHOUSE_DATABASE: 'default',
  });
  await migrate(storage.admin, join(ROOT, 'clickhouse'));
});
afterAll(async () => {
  await Promise.all(started.map((c) => c.stop()));
  await mock?.stop();
  await storage?.close();
});

type Setup = KafkaSinkConfig & {
  BATCH_MAX_ROWS: number;
  BATCH_MAX_WAIT_MS: number;
  KAFKA_MAX_WAIT_BEHIND_MS: number;
};
async function setup(name: string, partitions = 3): Promise<Setup> {
  return {
    ...(await mockTopics(mock, name, partitions)),
    BATCH_MAX_ROWS: 1000,
    BATCH_MAX_WAIT_MS: 100,
    // Pacing on, as in the service: partitions that hold rows together wait for each other.
    KAFKA_MAX_WAIT_BEHIND_MS: 1000,
  };
}

async function consume(
  config: Setup,
  opts: { store?: Store; datasources?: string[]; dedupWindow?: number } = {},
) {
  const { store = storage.store, datasources, dedupWindow } = opts;
  // A short session: the mock broker waits up to a session timeout for every member to
  // rejoin a rebalance, which would make each membership change take 30 s.
  const c = await startKafkaLoader({
    store,
    config,
    retryMinMs: 20,
    retryMaxMs: 200,
    sessionTimeout: 6000,
    datasources,
    dedupWindow,
  });
  started.push(c);
  return c;
}

/** Rows of this test in ClickHouse: total and distinct event ids (duplicates show as a gap). */
async function counts(prefix: string, table = 'feature_events') {
  const rs = await storage.admin.query({
    query: `SELECT count() AS n, uniqExact(event_id) AS u FROM ${table} WHERE startsWith(event_id, {p:String})`,
    query_params: { p: prefix },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ n: string; u: string }>();
  return { n: Number(row?.n), u: Number(row?.u) };
}

const lines = (prefix: string, n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => eventLine(`${prefix}${from + i}`, `user${(from + i) % 17}`));

/** A store whose inserts fail (or hang) on demand; reads go through. */
function controllableClient() {
  const state = {
    fail: false,
    attempts: 0,
    /** When set, the next insert runs for real and then waits on this before answering. */
    holdAfter: undefined as undefined | { reached: boolean; release: Promise<void> },
  };
  const client: Store = {
    ...storage.store,
    async insert(table, lines, token) {
      if (lines.length === 0) return;
      state.attempts++;
      if (state.fail) throw new Error('injected insert failure');
      await storage.store.insert(table, lines, token);
      const hold = state.holdAfter;
      if (hold && !hold.reached) {
        hold.reached = true;
        await hold.release; // rejects: the caller sees a failed insert that did land
      }
    },
  };
  return { client, state };
}

/** Runs `ask` with a throwaway admin client of the mock broker. */
async function inspect<T>(ask: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Kafka({
    clientId: 'inspect',
    brokers: mock.brokers.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    return await ask(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Sends messages as another producer would: plain kafkajs, none of our packing. */
async function produceAsAnother(clientId: string, topic: string, messages: Message[]): Promise<void> {
  const producer = new Kafka({
    clientId,
    brokers: mock.brokers.split(','),
    logLevel: logLevel.NOTHING,
  }).producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
}

/** The end offset of each partition of the events topic, as "partition:offset". */
async function endOffsets(config: Setup) {
  const ends = await inspect((admin) => admin.fetchTopicOffsets(config.KAFKA_TOPIC));
  return ends.map((p) => `${p.partition}:${p.high}`).sort();
}

async function committedOffsets(config: Setup) {
  const [t] = await inspect((admin) =>
    admin.fetchOffsets({ groupId: config.KAFKA_GROUP_ID, topics: [config.KAFKA_TOPIC] }),
  );
  return (t?.partitions ?? []).map((p) => `${p.partition}:${p.offset}`).sort();
}

describe('kafka consumer', () => {
  it('carries rows from the sink to ClickHouse; committed resolves only once they are there', async () => {
    const config = await setup('e2e');
    await consume(config);
    const sink = await createKafkaSink(config, undefined, { idempotent: false });
    const started = performance.now();
    const acceptances = await Promise.all(
      Array.from({ length: 20 }, (_, r) =>
        sink.append({
          events: lines('e2e-', 250, r * 250),
          quarantine: r === 0 ? [quarantineLine('e2e-q')] : [],
        }),
      ),
    );
    await Promise.all(acceptances.map((a) => a.committed));
    const seconds = (performance.now() - started) / 1000;
    // Checked right after `committed`: no waiting, so a premature resolve fails here.
    expect(await counts('e2e-')).toEqual({ n: 5000, u: 5000 });
    expect(await counts('e2e-q', 'feature_events_quarantine')).toEqual({ n: 1, u: 1 });
    console.log(
      `kafka e2e: 5000 events sink -> broker -> consumer -> chDB in ${seconds.toFixed(2)} s = ${Math.round(5000 / seconds)} events/s (wait=true)`,
    );
    await sink.close();
  });

  it('does not commit while inserts fail, then stores every row exactly once', async () => {
    const config = await setup('fail');
    const { client, state } = controllableClient();
    state.fail = true;
    await consume(config, { store: client });
    const sink = await createKafkaSink(config, undefined, { idempotent: false });
    const { committed } = await sink.append({ events: lines('fail-', 300), quarantine: [] });
    let done = false;
    committed.then(() => {
      done = true;
    });
    await waitFor(() => state.attempts >= 5, 'several failed insert attempts');
    // Nothing committed past the first row (a member records its intent at the range start).
    for (const o of await committedOffsets(config)) expect(Number(o.split(':')[1])).toBeLessThanOrEqual(0);
    expect(await counts('fail-')).toEqual({ n: 0, u: 0 });
    expect(done).toBe(false);
    state.fail = false;
    await committed;
    expect(await counts('fail-')).toEqual({ n: 300, u: 300 });
    // Committed past every message of every partition (the rows travel many to a message).
    expect(await committedOffsets(config)).toEqual(await endOffsets(config));
    await sink.close();
  });

  it('retrying an insert that landed but reported failure stores nothing twice', async () => {
    const config = await setup('landed', 1);
    const { client, state } = controllableClient();
    let release!: (err: Error) => void;
    state.holdAfter = { reached: false, release: new Promise<void>((_, reject) => (release = reject)) };
    state.holdAfter.release.catch(() => {});
    await consume(config, { store: client });
    const sink = await createKafkaSink(config, undefined, { idempotent: false });
    const { committed } = await sink.append({ events: lines('landed-', 100), quarantine: [] });
    await waitFor(() => state.holdAfter?.reached, 'the first insert');
    release(new Error('connection reset after the insert'));
    await committed;
    expect(await counts('landed-')).toEqual({ n: 100, u: 100 });
    await sink.close();
  });

  it('a member that resumes an interrupted range re-inserts exactly it, even when it would cut elsewhere', async () => {
    const config = await setup('resume', 1);
    const { client, state } = controllableClient();
    let release!: (err: Error) => void;
    state.holdAfter = { reached: false, release: new Promise<void>((_, reject) => (release = reject)) };
    state.holdAfter.release.catch(() => {});
    // The first member cuts at 60 rows; its successor (another BATCH_MAX_ROWS, or simply a
    // fetch that returns more) would cut elsewhere and get another dedup token without the
    // recorded range.
    const first = await consume({ ...config, BATCH_MAX_ROWS: 60 }, { store: client });
    // Ten rows to a message, so a 60-row cut falls between messages.
    const sink = await createKafkaSink(config, undefined, { idempotent: false, maxRowsPerMessage: 10 });
    await sink.append({ events: lines('resume-', 100), quarantine: [] });
    await waitFor(() => state.holdAfter?.reached, 'the first insert');
    expect(await counts('resume-')).toEqual({ n: 60, u: 60 }); // landed, not committed
    // More rows arrive, then the member dies between insert and commit.
    const { committed } = await sink.append({ events: lines('resume-', 50, 100), quarantine: [] });
    const stopping = first.stop();
    release(new Error('killed'));
    await stopping;
    expect(await committedOffsets(config)).toEqual(['0:0']);
    await consume(config); // cuts at 1000 rows, but must redo 0..59 first
    await committed;
    expect(await counts('resume-')).toEqual({ n: 150, u: 150 });
    await sink.close();
  });

  it('two members share the partitions and every row lands once', async () => {
    const config = await setup('pair', 4);
    const a = await consume(config);
    const b = await consume(config);
    const owned = (c: KafkaLoaderHandle) => c.assignment()[config.KAFKA_TOPIC]?.length ?? 0;
    await waitFor(() => owned(a) > 0 && owned(b) > 0 && owned(a) + owned(b) === 4, 'both members assigned');
    const sink = await createKafkaSink(config, undefined, { idempotent: false });
    const acceptances = await Promise.all(
      Array.from({ length: 8 }, (_, r) =>
        sink.append({ events: lines('pair-', 200, r * 200), quarantine: [] }),
      ),
    );
    await Promise.all(acceptances.map((x) => x.committed));
    expect(await counts('pair-')).toEqual({ n: 1600, u: 1600 });
    await sink.close();
  });

  it('a consumer stopped and restarted resumes without loss or duplicates', async () => {
    const config = await setup('restart');
    const sink = await createKafkaSink(config, undefined, { idempotent: false });
    const first = await consume(config);
    const a = await sink.append({ events: lines('restart-', 400), quarantine: [] });
    await a.committed;
    await first.stop();
    // Accepted while no consumer runs: durable in Kafka, waiting.
    const b = await sink.append({ events: lines('restart-', 400, 400), quarantine: [] });
    expect(await counts('restart-')).toEqual({ n: 400, u: 400 });
    await consume(config);
    await b.committed;
    expect(await counts('restart-')).toEqual({ n: 800, u: 800 });
    await sink.close();
  });

  it('reads one row from a message of another producer (no packing header, even pretty-printed) beside packed ones', async () => {
    const config = await setup('foreign', 2);
    await consume(config);
    const foreign = lines('foreign-', 30).map((l, i) => (i % 2 ? JSON.stringify(JSON.parse(l), null, 2) : l));
    await produceAsAnother(
      'foreign',
      config.KAFKA_TOPIC,
      foreign.map((value) => ({ key: JSON.parse(value).user_id, value })),
    );
    const sink = await createKafkaSink(config, undefined, { idempotent: false, maxRowsPerMessage: 7 });
    const { committed } = await sink.append({ events: lines('foreign-', 70, 30), quarantine: [] });
    await committed;
    await waitFor(async () => (await counts('foreign-')).n >= 100, 'all 100 rows');
    expect(await counts('foreign-')).toEqual({ n: 100, u: 100 });
    await sink.close();
  });

  it("another producer's row whose event_id is not a JSON string does not stall its partition", async () => {
    // eventIdOf threw on it (a bad escape), failing its batch on every retry. ClickHouse
    // itself reads the escape leniently, so the row lands beside the others.
    const config = await setup('badid', 1);
    await consume(config, { dedupWindow: 1000 }); // the dedup window reads every event_id
    const bad = eventLine('badid-x').replace('"badid-x"', '"badid-\\q"');
    await produceAsAnother('badid', config.KAFKA_TOPIC, [
      { value: eventLine('badid-1') },
      { value: bad },
      { value: eventLine('badid-2') },
    ]);
    await waitFor(async () => (await counts('badid-')).n >= 3, 'the three rows');
    expect(await counts('badid-')).toEqual({ n: 3, u: 3 });
  });

  it('routes rows by the x-datasource header: none is feature_events, an unknown one is quarantined', async () => {
    const config = await setup('routed', 2);
    for (const table of ['kc_pages', 'kc_pages_quarantine'])
      await storage.admin.command({
        query: `CREATE TABLE IF NOT EXISTS ${table} (path Nullable(String), raw Nullable(String), c__error Array(String)) ENGINE = MergeTree ORDER BY tuple() SETTINGS non_replicated_deduplication_window = 1000`,
      });
    await consume(config, { datasources: ['kc_pages'] });
    const packed = { 'content-type': 'application/x-ndjson' };
    await produceAsAnother('routed', config.KAFKA_TOPIC, [
      { value: eventLine('routed-plain') }, // another producer's row, no header: feature_events
      { value: '{"path":"/one"}', headers: { 'x-datasource': 'kc_pages' } },
      { value: '{"path":"/two"}\n{"path":"/three"}', headers: { ...packed, 'x-datasource': 'kc_pages' } },
      { value: '{"path":"/lost"}', headers: { 'x-datasource': 'no_such_table' } },
      { value: eventLine('routed-packed'), headers: packed },
    ]);
    const rows = async (query: string) =>
      (await storage.admin.query({ query, format: 'JSONEachRow' })).json<Record<string, unknown>>();
    await waitFor(async () => (await counts('routed-')).n >= 2, 'the feature_events rows');
    await waitFor(async () => (await rows('SELECT 1 FROM kc_pages')).length >= 3, 'the kc_pages rows');
    await waitFor(
      async () =>
        (await rows('SELECT 1 FROM feature_events_quarantine WHERE raw = \'{"path":"/lost"}\'')).length > 0,
      'the unknown datasource row in quarantine',
    );
    expect(await counts('routed-')).toEqual({ n: 2, u: 2 });
    expect(await rows('SELECT path FROM kc_pages ORDER BY path')).toEqual([
      { path: '/one' },
      { path: '/three' },
      { path: '/two' },
    ]);
    expect(
      await rows('SELECT c__error FROM feature_events_quarantine WHERE raw = \'{"path":"/lost"}\''),
    ).toEqual([{ c__error: ['unknown datasource "no_such_table": not in the project'] }]);
  });
});
