import { EVENTS_BY_TIME_TABLE, EVENTS_TABLE, QUARANTINE_TABLE } from '../tables.js';

/**
 * Which tables expire rows and after how long (RAW_RETENTION_DAYS, QUARANTINE_RETENTION_DAYS),
 * and the one statement that brings a table's TTL to that, given the TTL it has now. The TTL
 * depends on configuration, so it is not in the static migration files: apply.ts runs these
 * at start, after the migrations, only when they would change something.
 */

export interface RetentionPolicy {
  /** Days raw events are kept; 0 = forever. */
  rawDays: number;
  /** Days quarantined rows are kept; 0 = forever. */
  quarantineDays: number;
}

export interface TableTtl {
  table: string;
  /** The DateTime column the age is measured from. */
  column: string;
  /** 0 = no TTL. */
  days: number;
}

/**
 * The raw events by their event time (the rollups, written by views at insert, keep theirs),
 * quarantined rows by when they arrived (a rejected row's timestamp may be anything), the
 * latter also for each project datasource's `<ds>_quarantine`.
 */
export function retentionTargets(
  policy: RetentionPolicy,
  projectDatasources: Iterable<string> = [],
): TableTtl[] {
  return [
    { table: EVENTS_TABLE, column: 'timestamp', days: policy.rawDays },
    { table: EVENTS_BY_TIME_TABLE, column: 'timestamp', days: policy.rawDays },
    { table: QUARANTINE_TABLE, column: 'insertion_date', days: policy.quarantineDays },
    ...[...projectDatasources].map((ds) => ({
      table: `${ds}_quarantine`,
      column: 'insertion_date',
      days: policy.quarantineDays,
    })),
  ];
}

/** The TTL expression exactly as ClickHouse prints it back in system.tables.engine_full. */
export function ttlExpression(t: TableTtl): string | undefined {
  return t.days > 0 ? `${t.column} + toIntervalDay(${t.days})` : undefined;
}

/** The table TTL in an engine_full text (`… ORDER BY … TTL <expr> SETTINGS …`), or undefined. */
export function currentTtl(engineFull: string): string | undefined {
  const m = /\sTTL\s+([\s\S]*?)(?:\s+SETTINGS\s[\s\S]*)?$/.exec(engineFull);
  return m?.[1]?.trim() || undefined;
}

/** The ALTER that makes the table's TTL the wanted one, or undefined when it already is. */
export function ttlStatement(t: TableTtl, current: string | undefined): string | undefined {
  const wanted = ttlExpression(t);
  if (wanted === current) return undefined;
  return wanted ? `ALTER TABLE ${t.table} MODIFY TTL ${wanted}` : `ALTER TABLE ${t.table} REMOVE TTL`;
}
