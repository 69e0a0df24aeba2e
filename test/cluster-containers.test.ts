import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import {
  DockerComposeEnvironment,
  getContainerRuntimeClient,
  type StartedDockerComposeEnvironment,
  Wait,
} from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// docker-compose.cluster.yml for real, where a Docker engine is reachable: Keeper x3,
// ClickHouse 2 shards x 2 replicas, Kafka x3, the migrate step, api x2, consumer x3.
// NEVER RUN on the machine this was written on (no Docker): it skips there and says so. What
// runs everywhere is the cluster DDL's check (src/clickhouse/migrations/cluster-ddl.test.ts)
// and the compose files' validation (test/compose-files.test.ts).
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TOKEN = 'cluster-test-admin-token-0123456789';
const PASSWORD = 'cluster-test';

const engine = await getContainerRuntimeClient().then(
  (c) => c.info.containerRuntime.host,
  () => undefined,
);
if (!engine)
  console.log('cluster-containers.test.ts SKIPPED: no Docker engine reachable (testcontainers found none).');

describe.skipIf(!engine)('docker-compose.cluster.yml (testcontainers)', () => {
  let env: StartedDockerComposeEnvironment;
  let ch: ClickHouseClient;
  let chUrl: string;

  beforeAll(async () => {
    env = await new DockerComposeEnvironment(ROOT, 'docker-compose.cluster.yml')
      .withBuild()
      .withEnvironment({ TB_ADMIN_TOKEN: TOKEN, CLICKHOUSE_PASSWORD: PASSWORD })
      .withWaitStrategy('api-1', Wait.forHealthCheck())
      .withWaitStrategy('api-2', Wait.forHealthCheck())
      .up();
    const node = env.getContainer('ch-s1-r1-1');
    chUrl = `http://${node.getHost()}:${node.getMappedPort(8123)}`;
    ch = createClient({ url: chUrl, password: PASSWORD });
  }, 900_000);

  afterAll(async () => {
    await ch?.close();
    await env?.down({ removeVolumes: true });
  });

  const rows = async <T>(query: string) => await (await ch.query({ query, format: 'JSONEachRow' })).json<T>();

  it('the migrate step created every table on every node, each file applied once', async () => {
    const tables = await rows<{ host: string; n: string }>(
      "SELECT hostName() AS host, count() AS n FROM clusterAllReplicas('events', system.tables) WHERE database = 'default' AND engine LIKE 'Replicated%' GROUP BY host",
    );
    expect(tables).toHaveLength(4);
    expect(new Set(tables.map((t) => t.n)).size).toBe(1);
    const log = await rows<{ n: string }>(
      'SELECT name, count() AS n FROM schema_migrations_log GROUP BY name',
    );
    expect(log.every((r) => r.n === '1')).toBe(true);
  });

  it('two more runners at once change nothing', async () => {
    const run = () =>
      new Promise<number | null>((resolve) => {
        const p = spawn(process.execPath, ['--import', 'tsx', 'src/migrate.ts'], {
          cwd: ROOT,
          env: {
            ...process.env,
            CLICKHOUSE_URL: chUrl,
            CLICKHOUSE_PASSWORD: PASSWORD,
            CLICKHOUSE_CLUSTER: 'events',
          },
          stdio: 'inherit',
        });
        p.once('exit', resolve);
      });
    expect(await Promise.all([run(), run()])).toEqual([0, 0]);
    const log = await rows<{ n: string }>(
      'SELECT name, count() AS n FROM schema_migrations_log GROUP BY name',
    );
    expect(log.every((r) => r.n === '1')).toBe(true);
  });

  it("events posted to both api replicas land once each, a user's rows on one shard, replicas agreeing", async () => {
    const api = [env.getContainer('api-1'), env.getContainer('api-2')].map(
      (c) => `http://${c.getHost()}:${c.getMappedPort(7181)}`,
    );
    const N = 5_000;
    const lines = Array.from({ length: N }, (_, i) =>
      JSON.stringify({
        event_id: `cl${i}`,
        user_id: `u${i % 97}`,
        feature_id: `f${i % 5}`,
        product_version: '1',
        event_type: 'used',
        timestamp: '2026-11-01 10:00:00',
      }),
    );
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${api[i % 2]}/v0/events?name=feature_events&wait=true`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}` },
        body: lines.slice((i * N) / 10, ((i + 1) * N) / 10).join('\n'),
      });
      expect(res.status).toBe(200);
    }
    expect(await rows("SELECT count() AS n FROM feature_events WHERE startsWith(event_id, 'cl')")).toEqual([
      { n: String(N) },
    ]);
    expect(
      await rows("SELECT sum(events) AS n FROM feature_usage_by_user WHERE startsWith(user_id, 'u')"),
    ).toEqual([{ n: String(N) }]);
    const spread = await rows<{ shards: string }>(
      "SELECT max(s) AS shards FROM (SELECT user_id, uniqExact(_shard_num) AS s FROM feature_events WHERE startsWith(event_id, 'cl') GROUP BY user_id)",
    );
    expect(spread).toEqual([{ shards: '1' }]);
    // Each shard's two replicas hold the same rows (after replication catches up); the two
    // shards together hold every row once.
    const byHost = async () =>
      Object.fromEntries(
        (
          await rows<{ host: string; n: string }>(
            "SELECT hostName() AS host, count() AS n FROM clusterAllReplicas('events', default.feature_events_local) WHERE startsWith(event_id, 'cl') GROUP BY host",
          )
        ).map((r) => [r.host, Number(r.n)]),
      );
    let counts: Record<string, number> = {};
    for (let i = 0; i < 60; i++) {
      counts = await byHost();
      if (counts['ch-s1-r1'] === counts['ch-s1-r2'] && counts['ch-s2-r1'] === counts['ch-s2-r2']) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(counts['ch-s1-r1']).toBe(counts['ch-s1-r2']);
    expect(counts['ch-s2-r1']).toBe(counts['ch-s2-r2']);
    expect((counts['ch-s1-r1'] ?? 0) + (counts['ch-s2-r1'] ?? 0)).toBe(N);
  }, 300_000);
});
