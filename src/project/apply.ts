import type { Admin } from '../clickhouse/reader.js';
import type { DatasourceFile } from './datasource-file.js';
import { createQuarantineSql, createTableSql, engineClause, quarantineColumns } from './ddl.js';
import type { ProjectPipe } from './load.js';

export class ProjectApplyError extends Error {
  override name = 'ProjectApplyError';
}

export interface ApplyReport {
  created: string[];
  altered: string[];
  unchanged: string[];
  views: string[];
}

interface Existing {
  engine: string;
  sorting_key: string;
  columns: Map<string, string>;
}

async function existing(client: Admin, table: string): Promise<Existing | undefined> {
  const t = await client.query({
    query:
      'SELECT engine, sorting_key FROM system.tables WHERE database = currentDatabase() AND name = {t:String}',
    query_params: { t: table },
    format: 'JSONEachRow',
  });
  const [row] = await t.json<{ engine: string; sorting_key: string }>();
  if (!row) return undefined;
  const c = await client.query({
    query:
      'SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String} ORDER BY position',
    query_params: { t: table },
    format: 'JSONEachRow',
  });
  const columns = new Map((await c.json<{ name: string; type: string }>()).map((r) => [r.name, r.type]));
  return { ...row, columns };
}

// ClickHouse spells a key its own way ("a, b" vs "(a,b)"): compare without spaces and outer parentheses.
const normKey = (k: string) => k.replace(/\s+/g, '').replace(/^\((.*)\)$/, '$1');

/** The type ClickHouse reports for a declared one (it drops spaces after commas). */
const normType = (t: string) => t.replace(/\s+/g, '').replace(/"/g, "'");

/**
 * Creates each datasource's table and quarantine table, or brings an existing one up to
 * its file: new columns are added. Anything that would lose or reinterpret stored data —
 * a column removed or retyped, another engine or sorting key — is refused with what to do.
 * Run at every start: a second run with the same files changes nothing.
 */
export async function applyDatasources(client: Admin, list: DatasourceFile[]): Promise<ApplyReport> {
  const report: ApplyReport = { created: [], altered: [], unchanged: [], views: [] };
  for (const ds of list) {
    const now = await existing(client, ds.name);
    if (!now) {
      await client.command({ query: createTableSql(ds) });
      report.created.push(ds.name);
    } else {
      const problems: string[] = [];
      const wantEngine = engineClause(ds).replace(/\(.*$/, '');
      if (now.engine !== wantEngine) problems.push(`engine ${now.engine} -> ${wantEngine}`);
      const wantKey = ds.engineSettings.sorting_key ?? '';
      if (normKey(now.sorting_key) !== normKey(wantKey))
        problems.push(`sorting key (${now.sorting_key}) -> (${wantKey})`);
      for (const [name, type] of now.columns) {
        const want = ds.columns.find((c) => c.name === name);
        if (!want) problems.push(`column ${name} would be dropped`);
        else if (normType(want.type) !== normType(type))
          problems.push(`column ${name} ${type} -> ${want.type}`);
      }
      if (problems.length > 0) {
        throw new ProjectApplyError(
          `datasource ${ds.name}: refusing a change that could lose data (${problems.join('; ')}). Create a new datasource with the new shape and copy the data into it, or drop the table yourself.`,
        );
      }
      const added = ds.columns.filter((c) => !now.columns.has(c.name));
      for (const c of added) {
        await client.command({
          query: `ALTER TABLE \`${ds.name}\` ADD COLUMN IF NOT EXISTS \`${c.name}\` ${c.type}${c.rest ? ` ${c.rest}` : ''}`,
        });
      }
      (added.length > 0 ? report.altered : report.unchanged).push(ds.name);
    }
    await client.command({ query: createQuarantineSql(ds) });
    for (const [name, type] of quarantineColumns(ds)) {
      await client.command({
        query: `ALTER TABLE \`${ds.name}_quarantine\` ADD COLUMN IF NOT EXISTS \`${name}\` ${type}`,
      });
    }
  }
  return report;
}

/** The materialized view a TYPE materialized pipe becomes: its node's SQL into its DATASOURCE. */
export function viewName(pipe: ProjectPipe): string {
  return `${pipe.name}__mv`;
}

/**
 * Creates the materialized view of every TYPE materialized pipe. A view holds no data, so a
 * changed pipe is applied by dropping and recreating it (rows already in the target stay;
 * rows arriving during the swap are not missed because start-up runs before ingest opens).
 */
export async function applyMaterialized(
  client: Admin,
  pipes: ProjectPipe[],
  known: ReadonlySet<string>,
): Promise<string[]> {
  const done: string[] = [];
  for (const pipe of pipes.filter((p) => p.kind === 'materialized')) {
    const node = pipe.df.nodes.find((n) => n.type === 'materialized');
    const target = node?.settings.datasource;
    if (!node || !target)
      throw new ProjectApplyError(`${pipe.file}: a TYPE materialized node needs DATASOURCE <name>`);
    if (!known.has(target))
      throw new ProjectApplyError(`${pipe.file}: DATASOURCE ${target} is not a datasource of the project`);
    if (node.sql.trim().split('\n')[0]?.trim() === '%')
      throw new ProjectApplyError(
        `${pipe.file}: a materialized node cannot be templated (it runs on every insert, without parameters)`,
      );
    // Earlier nodes of the pipe are inlined as CTEs, as an endpoint's are.
    const earlier = pipe.df.nodes.slice(0, pipe.df.nodes.indexOf(node));
    const ctes = earlier.map((n) => `${n.name} AS (${n.sql.replace(/;\s*$/, '')})`);
    const select = `${ctes.length ? `WITH ${ctes.join(',\n')}\n` : ''}${node.sql.trim().replace(/;\s*$/, '')}`;
    const name = viewName(pipe);
    const wanted = `CREATE MATERIALIZED VIEW \`${name}\` TO \`${target}\` AS\n${select}`;
    const rs = await client.query({
      query: 'SELECT comment FROM system.tables WHERE database = currentDatabase() AND name = {n:String}',
      query_params: { n: name },
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ comment: string }>();
    // The view's comment holds the SQL it was made from: equal means nothing to do.
    const marker = Buffer.from(wanted).toString('base64');
    if (row?.comment === marker) continue;
    if (row) await client.command({ query: `DROP VIEW \`${name}\`` });
    await client.command({ query: `${wanted}\nCOMMENT '${marker}'` });
    done.push(name);
  }
  return done;
}
