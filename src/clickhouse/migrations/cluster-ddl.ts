import type { Migration } from '../migrate.js';
import { quote } from './profile.js';

/**
 * The cluster profile of the same migration files. Each table becomes a Replicated* table
 * `<name>_local` on every node (ON CLUSTER) plus a Distributed table under the original name,
 * so the pipes, the inserts and user SQL keep using the names they use on one node:
 *
 *  - raw events are sharded by sipHash64(user_id): one user's rows, and so the per-user
 *    rollup rows the views derive from them, stay on one shard; a lookup by user can be sent
 *    to one shard (optimize_skip_unused_shards);
 *  - materialized views read and write the local tables of their own shard;
 *  - back-fills (INSERT … SELECT between Distributed tables) run on each shard locally
 *    (parallel_distributed_insert_select = 2);
 *  - insert deduplication moves from the non-replicated window to the replicated one, kept
 *    for Kafka's retention (7 days), so a replayed batch with the same token is dropped on
 *    every replica of its shard.
 *
 * A statement this does not know is an error naming it: a new kind of migration needs its
 * rule here, and the cluster test (cluster-ddl.test.ts) fails until it has one.
 */
export class ClusterDdlError extends Error {
  override name = 'ClusterDdlError';
}

export interface ClusterTarget {
  cluster: string;
  database: string;
}

interface Table {
  /** The Distributed table's sharding key. */
  shardingKey: string;
}

/** Kafka's retention in docker-compose*.yml (168 h): the longest a batch can be replayed after. */
export const REPLICATED_DEDUP_SECONDS = 7 * 24 * 3600;

const CREATE_TABLE =
  /^CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(\w+)\s*\(([\s\S]*)\)\s*ENGINE\s*=\s*(\w*MergeTree)\s*(?:\(\s*\))?([\s\S]*)$/i;
const CREATE_MV =
  /^CREATE\s+MATERIALIZED\s+VIEW\s+(IF\s+NOT\s+EXISTS\s+)?(\w+)\s+TO\s+(\w+)\s+AS\s+([\s\S]*)$/i;
const CREATE_VIEW = /^CREATE\s+(OR\s+REPLACE\s+)?VIEW\s+(IF\s+NOT\s+EXISTS\s+)?(\w+)\s+(AS\s+[\s\S]*)$/i;
const ALTER = /^ALTER\s+TABLE\s+(\w+)\s+([\s\S]*)$/i;
const DROP = /^DROP\s+(TABLE|VIEW)\s+(IF\s+EXISTS\s+)?(\w+)\s*$/i;
const INSERT_SELECT =
  /^INSERT\s+INTO\s+(\w+)\s*(\([^)]*\))?\s+(?:SETTINGS\s+((?:(?!\bSELECT\b)[\s\S])*?)\s+)?(SELECT\b[\s\S]*)$/i;
const TRUNCATE = /^TRUNCATE\s+TABLE\s+(IF\s+EXISTS\s+)?(\w+)\s*$/i;
const RENAME = /^RENAME\s+TABLE\s+([\s\S]+)$/i;

/** The `a TO b` pairs of a RENAME TABLE statement, in order. */
function renamePairs(list: string): Array<[string, string]> {
  return splitTopLevel(list).map((pair) => {
    const m = /^(\w+)\s+TO\s+(\w+)$/i.exec(pair.trim());
    if (!m) throw new ClusterDdlError(`cannot read this RENAME pair: ${pair}`);
    return [m[1]!, m[2]!];
  });
}

/**
 * Sharding by user keeps a user's rows together. The key must be a function of the row alone
 * (never rand() or a DEFAULT now() column) for any table the service inserts into: a replayed
 * batch must split across shards exactly as the first attempt did, or a shard sees a block it
 * never had and the deduplication token cannot drop it. Quarantined rows key on the raw line;
 * rollups are written only by their shard-local views, so spreading them evenly is fine.
 */
export function shardingKeyFor(columns: string): string {
  if (/(^|[\s,(])user_id\s+String\b/.test(columns)) return 'sipHash64(user_id)';
  if (/(^|[\s,(])raw\s+String\b/.test(columns)) return 'sipHash64(raw)';
  return 'rand()';
}

/** Every table any file creates, with its sharding key: views in later files refer to them. */
export function shardedTables(files: Migration[]): Map<string, Table> {
  const tables = new Map<string, Table>();
  for (const f of files)
    for (const s of f.statements) {
      const m = CREATE_TABLE.exec(s);
      if (m) tables.set(m[2]!, { shardingKey: shardingKeyFor(m[3]!) });
      // A table renamed (a rebuild swapped in) keeps its sharding under the new name.
      const r = RENAME.exec(s.trim());
      if (r)
        for (const [from, to] of renamePairs(r[1]!)) {
          const t = tables.get(from);
          if (t) tables.set(to, t);
        }
    }
  return tables;
}

/** Splits at commas outside parentheses and quotes (ALTER's list of operations). */
export function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === "'") quoted = false;
    } else if (c === "'") quoted = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter(Boolean);
}

const stripCodecs = (op: string) => op.replace(/\s+CODEC\s*\((?:[^()]|\([^()]*\))*\)/gi, '');

function localNames(sql: string, tables: Map<string, Table>): string {
  return sql.replace(/\b(FROM|JOIN)\s+(\w+)\b/gi, (all, kw: string, name: string) =>
    tables.has(name) ? `${kw} ${name}_local` : all,
  );
}

export function clusterStatement(
  statement: string,
  target: ClusterTarget,
  tables: Map<string, Table>,
): string[] {
  const on = `ON CLUSTER ${quote(target.cluster)}`;
  const s = statement.trim();
  const need = (name: string) => {
    if (!tables.has(name)) throw new ClusterDdlError(`table ${name} is not created by any migration file`);
    return name;
  };

  let m = CREATE_TABLE.exec(s);
  if (m) {
    const [, ine = '', name, columns, engine, rest] = m as unknown as string[];
    const settings = rest!.replace(
      /non_replicated_deduplication_window\s*=\s*(\d+)/i,
      `replicated_deduplication_window = $1, replicated_deduplication_window_seconds = ${REPLICATED_DEDUP_SECONDS}`,
    );
    const path = `/clickhouse/tables/{shard}/${target.database}/${name}_local`;
    return [
      `CREATE TABLE ${ine}${name}_local ${on} (${columns}) ENGINE = Replicated${engine}(${quote(path)}, '{replica}')${settings}`,
      `CREATE TABLE ${ine}${name} ${on} AS ${name}_local ENGINE = Distributed(${quote(target.cluster)}, ${quote(target.database)}, ${quote(`${name}_local`)}, ${tables.get(name!)?.shardingKey ?? shardingKeyFor(columns!)})`,
    ];
  }
  m = CREATE_MV.exec(s);
  if (m) {
    const [, ine = '', name, to, select] = m as unknown as string[];
    return [
      `CREATE MATERIALIZED VIEW ${ine}${name} ${on} TO ${need(to!)}_local AS ${localNames(select!, tables)}`,
    ];
  }
  m = CREATE_VIEW.exec(s);
  if (m) {
    const [, orReplace = '', ine = '', name, body] = m as unknown as string[];
    return [`CREATE ${orReplace}VIEW ${ine}${name} ${on} ${body}`];
  }
  m = ALTER.exec(s);
  if (m) {
    const [, name, rest] = m as unknown as string[];
    need(name!);
    const settingsAt = rest!.search(/\sSETTINGS\s/i);
    const opsText = settingsAt >= 0 ? rest!.slice(0, settingsAt) : rest!;
    // mutations_sync = 2: wait for the mutation on every replica, not only the one asked.
    const settings =
      settingsAt >= 0
        ? ` ${rest!
            .slice(settingsAt)
            .trim()
            .replace(/mutations_sync\s*=\s*1/i, 'mutations_sync = 2')}`
        : '';
    const ops = splitTopLevel(opsText);
    const out = [`ALTER TABLE ${name}_local ${on} ${ops.join(', ')}${settings}`];
    // The Distributed table carries the columns (not codecs, projections or data).
    const columnOps = ops
      .filter((op) => /^(ADD|DROP|MODIFY|RENAME|COMMENT)\s+COLUMN\b/i.test(op))
      .map(stripCodecs);
    if (columnOps.length > 0) out.push(`ALTER TABLE ${name} ${on} ${columnOps.join(', ')}`);
    return out;
  }
  m = DROP.exec(s);
  if (m) {
    const [, kind, ie = '', name] = m as unknown as string[];
    // SYNC: the replica's Keeper path is freed now, so a file that re-creates the table works.
    if (kind!.toUpperCase() === 'VIEW') return [`DROP VIEW ${ie}${name} ${on} SYNC`];
    need(name!);
    return [`DROP TABLE ${ie}${name} ${on} SYNC`, `DROP TABLE ${ie}${name}_local ${on} SYNC`];
  }
  m = INSERT_SELECT.exec(s);
  if (m) {
    const [, name, cols = '', own, select] = m as unknown as Array<string | undefined>;
    need(name!);
    const settings = ['parallel_distributed_insert_select = 2', 'distributed_foreground_insert = 1'];
    if (own) settings.push(...splitTopLevel(own));
    return [`INSERT INTO ${name}${cols ? ` ${cols}` : ''} SETTINGS ${settings.join(', ')} ${select}`];
  }
  m = TRUNCATE.exec(s);
  if (m) {
    // The rows live in the local tables; a Distributed table holds none.
    const [, ie = '', name] = m as unknown as string[];
    need(name!);
    return [`TRUNCATE TABLE ${ie}${name}_local ${on} SYNC`];
  }
  m = RENAME.exec(s);
  if (m) {
    const pairs = renamePairs(m[1]!);
    for (const [from] of pairs) need(from);
    // The local tables (the data) are renamed in one atomic statement. A Distributed table
    // names its local table, so instead of renaming those they are dropped and created again
    // over the renamed locals (they hold no data); reads fail for that moment.
    const names = [...new Set(pairs.flat())];
    return [
      `RENAME TABLE ${pairs.map(([a, b]) => `${a}_local TO ${b}_local`).join(', ')} ${on}`,
      ...names.map((n) => `DROP TABLE IF EXISTS ${n} ${on} SYNC`),
      ...pairs.map(
        ([, to]) =>
          `CREATE TABLE ${to} ${on} AS ${to}_local ENGINE = Distributed(${quote(target.cluster)}, ${quote(target.database)}, ${quote(`${to}_local`)}, ${tables.get(to)?.shardingKey ?? 'rand()'})`,
      ),
    ];
  }
  throw new ClusterDdlError(
    `no cluster form for this statement (add a rule to src/clickhouse/migrations/cluster-ddl.ts): ${s.slice(0, 120)}`,
  );
}

/** The files with their statements in cluster form; checksums stay those of the files. */
export function clusterMigrations(files: Migration[], target: ClusterTarget): Migration[] {
  const tables = shardedTables(files);
  return files.map((f) => {
    try {
      return { ...f, statements: f.statements.flatMap((s) => clusterStatement(s, target, tables)) };
    } catch (err) {
      if (err instanceof ClusterDdlError) throw new ClusterDdlError(`${f.name}: ${err.message}`);
      throw err;
    }
  });
}
