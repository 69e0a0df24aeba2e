import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPLICATED_DEDUP_SECONDS } from '../src/clickhouse/migrations/cluster-ddl.js';

// No Docker here, so the compose files are checked as far as a file can be: against the
// Compose specification's JSON schema (the copy the dclint package ships, kept current by its
// maintainers) and for the wiring the schema cannot see. A real start is containers.test.ts's
// job on a machine with Docker.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCHEMA = JSON.parse(
  readFileSync(join(ROOT, 'node_modules/dclint/schemas/compose.schema.json'), 'utf8'),
);
// The schema names draft-07 by its https address, which Ajv (whose draft-07 it is) files
// under http: compile it as the draft-07 schema it is.
const { $schema, ...draft07 } = SCHEMA;
expect($schema).toMatch(/draft-07/);
const validate = new Ajv({ allErrors: true, strict: false }).compile(draft07);

interface Service {
  command?: string[];
  environment?: Record<string, unknown>;
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  volumes?: string[];
  image?: string;
  hostname?: string;
}
interface Compose {
  services: Record<string, Service>;
}
/** The file as Compose reads it: YAML with anchors and `<<` merge keys resolved. */
const load = (file: string) => parse(readFileSync(join(ROOT, file), 'utf8'), { merge: true }) as Compose;
const errors = (doc: unknown) =>
  validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

describe.each(['docker-compose.yml', 'docker-compose.cluster.yml'])('%s', (file) => {
  const compose = load(file);

  it('is valid against the Compose specification', () => {
    expect(errors(compose)).toEqual([]);
  });

  it('names only existing services in depends_on, and mounts only files that exist', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const dep of Object.keys(svc.depends_on ?? {}))
        expect(compose.services, `${name} -> ${dep}`).toHaveProperty(dep);
      for (const v of svc.volumes ?? [])
        if (v.startsWith('./')) expect(existsSync(join(ROOT, v.split(':')[0]!)), `${name}: ${v}`).toBe(true);
    }
  });

  it('migrates once, in a one-shot step that api and consumer wait for', () => {
    const migrate = compose.services.migrate;
    expect(migrate?.command).toEqual(['node', '--import', 'tsx', 'src/migrate.ts']);
    for (const role of ['api', 'consumer']) {
      expect(compose.services[role]?.depends_on?.migrate).toEqual({
        condition: 'service_completed_successfully',
      });
      // Roles do not migrate themselves: they run split (api / consumer), which only checks.
      expect(compose.services[role]?.environment?.ROLE).toBe(role);
      expect(compose.services[role]?.environment?.MIGRATE_ON_START ?? 'auto').toBe('auto');
    }
  });
});

describe('the validator', () => {
  it('rejects what Compose would reject (so a pass above means something)', () => {
    const compose = load('docker-compose.yml') as unknown as Record<string, unknown>;
    expect(errors({ ...compose, servics: {} })).not.toEqual([]);
    const services = compose.services as Record<string, Record<string, unknown>>;
    expect(
      errors({ ...compose, services: { ...services, api: { ...services.api, depends_on: 5 } } }),
    ).not.toEqual([]);
    expect(
      errors({ ...compose, services: { ...services, api: { ...services.api, restart: ['always'] } } }),
    ).not.toEqual([]);
  });
});

describe('docker-compose.cluster.yml', () => {
  const compose = load('docker-compose.cluster.yml');
  const services = Object.entries(compose.services);
  const xml = readFileSync(join(ROOT, 'deploy/cluster/clickhouse.xml'), 'utf8');

  it('runs 3 Keeper nodes, and 2 shards x 2 replicas of ClickHouse named as the cluster config names them', () => {
    expect(services.filter(([, s]) => s.image?.startsWith('clickhouse/clickhouse-keeper')).length).toBe(3);
    const nodes = services.filter(([, s]) => s.image?.startsWith('clickhouse/clickhouse-server'));
    const layout = nodes.map(([name, s]) => [name, s.environment?.CH_SHARD, s.environment?.CH_REPLICA]);
    expect(new Set(layout.map(([, shard]) => shard))).toEqual(new Set(['01', '02']));
    expect(new Set(layout.map(([, , replica]) => replica)).size).toBe(4);
    for (const [name, , replica] of layout) {
      expect(replica).toBe(name);
      // Replicas fetch parts from the host name a replica advertises: one the others resolve.
      expect(compose.services[name as string]?.hostname).toBe(name);
      expect(xml).toContain(`<host>${name}</host>`);
    }
    // Each shard block of the cluster config lists that shard's two nodes.
    const shards = [...xml.matchAll(/<shard>([\s\S]*?)<\/shard>/g)].map((m) =>
      [...m[1]!.matchAll(/<host>([\w-]+)</g)].map((h) => h[1]),
    );
    expect(shards).toEqual([
      ['ch-s1-r1', 'ch-s1-r2'],
      ['ch-s2-r1', 'ch-s2-r2'],
    ]);
  });

  it('runs 3 Kafka brokers in one KRaft quorum with 3 copies of each partition', () => {
    const brokers = services.filter(
      ([, s]) => s.image?.startsWith('apache/kafka') && s.environment?.KAFKA_NODE_ID,
    );
    expect(brokers.length).toBe(3);
    for (const [name, s] of brokers) {
      expect(s.environment?.KAFKA_PROCESS_ROLES).toBe('broker,controller');
      expect(String(s.environment?.KAFKA_CONTROLLER_QUORUM_VOTERS).split(',')).toHaveLength(3);
      expect(String(s.environment?.KAFKA_CONTROLLER_QUORUM_VOTERS)).toContain(
        `${s.environment?.KAFKA_NODE_ID}@${name}:9093`,
      );
      expect(s.environment?.KAFKA_MIN_INSYNC_REPLICAS).toBe(2);
      // Kafka keeps a batch no longer than ClickHouse remembers its dedup token.
      expect(Number(s.environment?.KAFKA_LOG_RETENTION_HOURS) * 3600).toBeLessThanOrEqual(
        REPLICATED_DEDUP_SECONDS,
      );
    }
    expect(compose.services['kafka-topics']?.command?.join(' ')).toContain('--replication-factor 3');
  });

  it('scales api and consumer, on the cluster profile the migrate step used', () => {
    expect(compose.services.api?.deploy?.replicas).toBeGreaterThanOrEqual(2);
    expect(compose.services.consumer?.deploy?.replicas).toBeGreaterThanOrEqual(2);
    const cluster = /<remote_servers>\s*<(\w+)>/.exec(xml)?.[1];
    for (const role of ['migrate', 'api', 'consumer'])
      expect(compose.services[role]?.environment?.CLICKHOUSE_CLUSTER, role).toBe(cluster);
  });
});
