import type { DatasourceFile } from './datasource-file.js';

/** Like every table of ours: a retried insert (same token) is dropped, also in views' targets. */
const DEDUP = 'non_replicated_deduplication_window = 1000';

const quote = (name: string) => `\`${name}\``;

/** The engine with its arguments from ENGINE_VER / ENGINE_SIGN / ENGINE_VERSION / ENGINE_SUMMING_COLUMNS. */
export function engineClause(ds: DatasourceFile): string {
  const s = ds.engineSettings;
  const args =
    ds.engine === 'ReplacingMergeTree'
      ? [s.ver, s.is_deleted]
      : ds.engine === 'CollapsingMergeTree'
        ? [s.sign]
        : ds.engine === 'VersionedCollapsingMergeTree'
          ? [s.sign, s.version]
          : ds.engine === 'SummingMergeTree' && s.summing_columns
            ? [`(${s.summing_columns})`]
            : [];
  const present = args.filter((a): a is string => !!a);
  return `${ds.engine}(${present.join(', ')})`;
}

/** CREATE TABLE for a datasource, from its SCHEMA and ENGINE_* settings. */
export function createTableSql(ds: DatasourceFile): string {
  const s = ds.engineSettings;
  const cols = ds.columns
    .map((c) => `    ${quote(c.name)} ${c.type}${c.rest ? ` ${c.rest}` : ''}`)
    .join(',\n');
  const parts = [
    `CREATE TABLE ${quote(ds.name)}\n(\n${cols}\n)`,
    `ENGINE = ${engineClause(ds)}`,
    s.partition_key ? `PARTITION BY ${s.partition_key}` : '',
    `ORDER BY ${s.sorting_key ? `(${s.sorting_key})` : 'tuple()'}`,
    s.primary_key ? `PRIMARY KEY (${s.primary_key})` : '',
    s.ttl ? `TTL ${s.ttl}` : '',
    `SETTINGS ${[DEDUP, s.settings].filter(Boolean).join(', ')}`,
  ];
  return parts.filter(Boolean).join('\n');
}

/** The quarantine table Tinybird keeps for a datasource: its columns as nullable strings plus the reasons. */
export function quarantineColumns(ds: DatasourceFile): [string, string][] {
  return [
    ...ds.columns.map((c): [string, string] => [c.name, 'Nullable(String)']),
    ['c__error_column', 'Array(String)'],
    ['c__error', 'Array(String)'],
    ['insertion_date', "DateTime('UTC') DEFAULT now()"],
    ['raw', 'String'],
  ];
}

export function createQuarantineSql(ds: DatasourceFile): string {
  const cols = quarantineColumns(ds)
    .map(([n, t]) => `    ${quote(n)} ${t}`)
    .join(',\n');
  return `CREATE TABLE IF NOT EXISTS ${quote(`${ds.name}_quarantine`)}\n(\n${cols}\n)\nENGINE = MergeTree\nORDER BY insertion_date\nSETTINGS ${DEDUP}`;
}
