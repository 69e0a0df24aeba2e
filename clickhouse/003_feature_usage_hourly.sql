-- Hourly rollup per feature and version: what feature_usage_summary and
-- feature_usage_timeline read instead of raw events. Hour is the finest bucket the
-- timeline offers; coarser buckets (day, week, month) merge hours at query time.
CREATE TABLE IF NOT EXISTS feature_usage_hourly
(
    feature_id      LowCardinality(String),
    product_version LowCardinality(String),
    hour            DateTime('UTC'),
    events          SimpleAggregateFunction(sum, UInt64),
    -- Exact distinct counts (the endpoints promise exact numbers): the states merge
    -- across hours without double-counting a user active in several of them.
    users           AggregateFunction(uniqExact, String),
    sessions        AggregateFunction(uniqExact, String),
    first_seen      SimpleAggregateFunction(min, DateTime('UTC')),
    last_seen       SimpleAggregateFunction(max, DateTime('UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYear(hour)
ORDER BY (feature_id, product_version, hour)
-- Needed so a retried insert into feature_events is also dropped here
-- (deduplicate_blocks_in_dependent_materialized_views).
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS feature_usage_hourly_mv TO feature_usage_hourly AS
SELECT
    feature_id,
    product_version,
    toStartOfHour(timestamp) AS hour,
    count() AS events,
    uniqExactState(user_id) AS users,
    uniqExactState(session_id) AS sessions,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen
FROM feature_events
GROUP BY feature_id, product_version, hour;
