-- Per-user rollup keyed by user first: user_feature_usage reads a handful of rows for one
-- user instead of scanning every event (the raw table is sorted by feature, not user).
CREATE TABLE IF NOT EXISTS feature_usage_by_user
(
    user_id         String,
    feature_id      LowCardinality(String),
    product_version LowCardinality(String),
    events          SimpleAggregateFunction(sum, UInt64),
    sessions        AggregateFunction(uniqExact, String),
    first_seen      SimpleAggregateFunction(min, DateTime('UTC')),
    last_seen       SimpleAggregateFunction(max, DateTime('UTC'))
)
ENGINE = AggregatingMergeTree
-- No time partitioning: a user's whole history merges into one row per feature and version.
ORDER BY (user_id, feature_id, product_version)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS feature_usage_by_user_mv TO feature_usage_by_user AS
SELECT
    user_id,
    feature_id,
    product_version,
    count() AS events,
    uniqExactState(session_id) AS sessions,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen
FROM feature_events
GROUP BY user_id, feature_id, product_version;
