/** The response formats a pipe endpoint serves, by file extension, and the ClickHouse FORMAT behind each. */
export const FORMATS = {
  // FORMAT JSON is Tinybird's JSON body: meta, data, rows, rows_before_limit_at_least, statistics.
  json: { clickhouse: 'JSON', contentType: 'application/json' },
  csv: { clickhouse: 'CSVWithNames', contentType: 'text/csv; charset=utf-8' },
  // Tinybird's name for the same thing: CSV with a header row.
  csvwithnames: { clickhouse: 'CSVWithNames', contentType: 'text/csv; charset=utf-8' },
  ndjson: { clickhouse: 'JSONEachRow', contentType: 'application/x-ndjson' },
  // Binary: the bytes go out as ClickHouse wrote them.
  parquet: { clickhouse: 'Parquet', contentType: 'application/vnd.apache.parquet', binary: true },
  // Prometheus' text format: the result needs columns name and value (help, type, labels, timestamp optional).
  prometheus: { clickhouse: 'Prometheus', contentType: 'text/plain; version=0.0.4; charset=utf-8' },
} as const;

export type FormatName = keyof typeof FORMATS;

/**
 * Splits "user_feature_usage.json" into pipe name and format; undefined format if the
 * extension is unknown. `formatParam` (the format= query parameter) names the format when
 * the path has no extension; ext is '' when neither gives one (the pipe's description).
 */
export function parsePipeFile(
  file: string,
  formatParam?: string,
): { name: string; format?: FormatName; ext: string } {
  const dot = file.lastIndexOf('.');
  const name = dot < 0 ? file : file.slice(0, dot);
  const ext = (dot < 0 ? (formatParam ?? '') : file.slice(dot + 1)).toLowerCase();
  if (ext === '') return { name, ext };
  return { name, ext, format: ext in FORMATS ? (ext as FormatName) : undefined };
}
