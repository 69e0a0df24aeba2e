/**
 * Columns that column(), columns(), symbol() and sql_and() may name: the union of the
 * tables in clickhouse/*.sql plus the output names our pipes use. An identifier taken from
 * a request is only ever one of these, so a request can never splice SQL through them.
 * test/pipes.test.ts checks this list against system.columns so it cannot drift silently.
 */
export const SCHEMA_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  feature_events: [
    'event_id',
    'user_id',
    'feature_id',
    'product_version',
    'event_type',
    'timestamp',
    'session_id',
    'metadata',
    'account_id',
    'inserted_at',
  ],
  feature_events_by_time: ['timestamp', 'feature_id', 'product_version', 'user_id'],
  feature_usage_hourly: [
    'feature_id',
    'product_version',
    'hour',
    'events',
    'users',
    'sessions',
    'first_seen',
    'last_seen',
  ],
  feature_usage_by_user: [
    'user_id',
    'feature_id',
    'product_version',
    'events',
    'sessions',
    'first_seen',
    'last_seen',
  ],
};

/** Output columns of the shipped pipes, so `ORDER BY {{column(order_by, 'events')}}` can name them. */
const OUTPUT_COLUMNS = ['first_used', 'last_used', 'unique_users', 'unique_sessions', 'bucket'];

export const KNOWN_COLUMNS: ReadonlySet<string> = new Set([
  ...Object.values(SCHEMA_COLUMNS).flat(),
  ...OUTPUT_COLUMNS,
]);
