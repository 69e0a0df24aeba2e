/** The tables the write path fills (and retention expires), named once (the migrations in clickhouse/ create them). */
export const EVENTS_TABLE = 'feature_events';
/** The raw events' time-ordered copy (clickhouse/013_events_by_time.sql), kept by a view. */
export const EVENTS_BY_TIME_TABLE = 'feature_events_by_time';
export const QUARANTINE_TABLE = 'feature_events_quarantine';
