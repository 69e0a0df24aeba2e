/** The tables the write path fills, named once (the migrations in clickhouse/ create them). */
export const EVENTS_TABLE = 'feature_events';
export const QUARANTINE_TABLE = 'feature_events_quarantine';
