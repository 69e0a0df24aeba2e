import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { launcher } from './helpers/launcher.js';
import { faultKafkaEnv, type MockKafka, startMockKafka } from './helpers/mock-kafka.js';
import { count, type Load, report, startLoad } from './helpers/reliability.js';
import { ndjson, type ServiceProcess } from './helpers/service.js';

// A project datasource (the sample project's page_views, with its materialized view into
// daily_page_stats) takes feature_events' write path: the spool or Kafka, batches across
// requests, range-named insert tokens. So two requests with the same body are two requests
// (as in Tinybird), and a crash re-delivers nothing twice: after SIGKILL under load, with
// inserts failing now and then, every acknowledged row is stored once, in the table and in
// the view's target.
const PROJECT = fileURLToPath(new URL('./fixtures/tinybird-project', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let mock: MockKafka | undefined;
const { start } = launcher(() => mock?.stop());

/** A page view whose session_id is `id`, on a page of its own scenario. */
const view = (path: string) => (id: string, n: number) => ({
  timestamp: `2026-11-${String(1 + (n % 20)).padStart(2, '0')} 10:00:00`,
  session_id: id,
  page: { pathname: path },
  geo: { country: 'ES' },
  duration_ms: n % 1000,
});

const post = (svc: ServiceProcess, body: string) =>
  fetch(`${svc.baseUrl}/v0/events?name=page_views&wait=true`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${svc.token}` },
    body,
  });

async function stored(svc: ServiceProcess, path: string) {
  const [r] = await svc.sql<{ rows: string; ids: string; views: string }>(
    `SELECT (SELECT count() FROM page_views WHERE pathname = '${path}') AS rows, (SELECT uniqExact(session_id) FROM page_views WHERE pathname = '${path}') AS ids, (SELECT countMerge(views) FROM daily_page_stats WHERE pathname = '${path}') AS views`,
  );
  return { rows: Number(r?.rows), ids: Number(r?.ids), views: Number(r?.views) };
}

/** Two identical bodies, each acknowledged after it is stored: stored twice, also in the view. */
async function expectIdenticalBodiesTwice(svc: ServiceProcess, path: string) {
  const body = ndjson(Array.from({ length: 5 }, (_, i) => view(path)(`same_${i}`, i)));
  for (let i = 0; i < 2; i++) {
    const res = await post(svc, body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ successful_rows: 5, quarantined_rows: 0, redacted_rows: 0 });
  }
  expect(await stored(svc, path)).toEqual({ rows: 10, ids: 5, views: 10 });
}

/** Waits until every acknowledged id is stored and the count has been still for 1.5 s (at most 3 min). */
async function settled(svc: ServiceProcess, path: string, load: Load) {
  let last = -1;
  let since = Date.now();
  for (const until = Date.now() + 180_000; Date.now() < until; await sleep(250)) {
    const now = await stored(svc, path);
    if (now.rows !== last) [last, since] = [now.rows, Date.now()];
    if (now.ids >= load.acked.size && Date.now() - since > 1500) return;
  }
}

/** What is stored against what the clients were told: none lost, none twice, none made up. */
async function verdict(svc: ServiceProcess, path: string, load: Load) {
  const rows = await svc.sql<{ id: string; c: string }>(
    `SELECT session_id AS id, count() AS c FROM page_views WHERE pathname = '${path}' GROUP BY id`,
  );
  const got = new Map(rows.map((r) => [r.id, Number(r.c)]));
  let duplicated = 0;
  let unexpected = 0;
  for (const [id, c] of got) {
    duplicated += c - 1;
    if (!load.acked.has(id) && !load.unacked.has(id)) unexpected++;
  }
  const lost = [...load.acked].filter((id) => !got.has(id)).length;
  const { rows: raw, views } = await stored(svc, path);
  return { acknowledged: load.acked.size, stored: got.size, lost, duplicated, unexpected, raw, views };
}

/** Load on page_views, SIGKILL mid-stream, a restart on the same data, then the verdict. */
async function killUnderLoad(first: ServiceProcess, env: Record<string, string>, path: string) {
  let svc = first;
  const load = startLoad({
    svc: () => svc,
    feature: path,
    prefix: path.slice(1),
    datasource: { name: 'page_views', row: view(path) },
  });
  await sleep(2500);
  await svc.kill(); // requests in flight, rows in the queue and mid-insert
  let output = svc.output();
  svc = await start({ dataDir: svc.dataDir, env });
  await sleep(1500); // traffic continues on the restarted process
  await load.stop();
  await settled(svc, path, load);
  const v = await verdict(svc, path, load);
  output += svc.output();
  return { svc, load, v, insertFaults: count(output, 'injected insert fault') };
}

/** Reports the run (npm run reliability), then holds it to exactly once. */
async function expectExactlyOnce(
  scenario: string,
  run: Awaited<ReturnType<typeof killUnderLoad>>,
  minAcked: number,
) {
  const { v, load } = run;
  report('faults', scenario, {
    sigkills: 1,
    insert_failures: run.insertFaults,
    requests: load.requests,
    statuses: load.statuses,
    ...v,
  });
  expect(load.acked.size).toBeGreaterThan(minAcked);
  expect(run.insertFaults).toBeGreaterThan(0);
  expect(v.lost).toBe(0);
  expect(v.duplicated).toBe(0);
  expect(v.unexpected).toBe(0);
  expect(v.views).toBe(v.raw); // the materialized view counted each row once too
  expect(await run.svc.stop()).toBe(0);
}

describe('a project datasource, embedded mode (the spool)', () => {
  it('stores identical bodies twice, and after SIGKILL under load with failing inserts keeps every acknowledged row once', async () => {
    const env = {
      PROJECT_DIR: PROJECT,
      BATCH_MAX_WAIT_MS: '300',
      BATCH_MAX_ROWS: '2000',
      FAULT_INSERT_FAIL_EVERY: '3',
    };
    const svc = await start({ env });
    await expectIdenticalBodiesTwice(svc, '/same/embedded');
    const run = await killUnderLoad(svc, env, '/fault/embedded');
    await expectExactlyOnce('embedded: project datasource, SIGKILL under load + insert failures', run, 500);
  }, 300_000);
});

describe('a project datasource, Kafka mode (mock broker)', () => {
  it('goes through the topic, stores identical bodies twice, and after SIGKILL keeps every acknowledged row once', async () => {
    mock = await startMockKafka({ partitions: 3 });
    const env = { ...faultKafkaEnv(mock), PROJECT_DIR: PROJECT };
    const svc = await start({ env });
    const admin = new Kafka({ brokers: mock.brokers.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const messages = async () =>
      (await admin.fetchTopicOffsets('feature_events')).reduce((n, p) => n + Number(p.high), 0);
    const before = await messages();
    await expectIdenticalBodiesTwice(svc, '/same/kafka');
    // The rows went through the events topic (one message per request: one partition each).
    expect(await messages()).toBe(before + 2);
    await admin.disconnect();
    const run = await killUnderLoad(svc, env, '/fault/kafka');
    await expectExactlyOnce('kafka: project datasource, SIGKILL under load + insert failures', run, 300);
  }, 420_000);
});
