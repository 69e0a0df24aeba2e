-- Smaller, cheaper rollups (measured at 10M generated events, scripts/bench):
--  * distinct users and sessions are kept as uniqExact states of sipHash64(value) instead of
--    the strings: uniqExact(String) stores a 128-bit hash per distinct value, this a 64-bit
--    one. The hourly rollup goes from 28.2 to 14.8 bytes per event and a 30-day summary
--    merges 27% faster. Counts stay exact unless two distinct ids of one answer share a
--    64-bit hash (about 1 in 10^9 at a million distinct ids).
--  * the strings of the raw table compress with ZSTD: 25.8 -> 17.8 bytes per event.
-- Re-runnable from the top: rollups are dropped, recreated and rebuilt from feature_events.
-- Run it (the service does at start) before any writer starts: rows inserted between the
-- backfill and the view's creation would be missed.

ALTER TABLE feature_events
    MODIFY COLUMN event_id String CODEC(ZSTD(3)),
    MODIFY COLUMN user_id String CODEC(ZSTD(3)),
    MODIFY COLUMN session_id String CODEC(ZSTD(3));

DROP VIEW IF EXISTS feature_usage_hourly_mv;
DROP TABLE IF EXISTS feature_usage_hourly;

CREATE TABLE feature_usage_hourly
(
    feature_id      LowCardinality(String),
    product_version LowCardinality(String),
    hour            DateTime('UTC'),
    events          SimpleAggregateFunction(sum, UInt64),
    -- uniqExactState(sipHash64(user_id)) and (session_id): merge across hours without
    -- counting a user active in several of them twice.
    users           AggregateFunction(uniqExact, UInt64),
    sessions        AggregateFunction(uniqExact, UInt64),
    first_seen      SimpleAggregateFunction(min, DateTime('UTC')),
    last_seen       SimpleAggregateFunction(max, DateTime('UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYear(hour)
ORDER BY (feature_id, product_version, hour)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW feature_usage_hourly_mv TO feature_usage_hourly AS
SELECT
    feature_id,
    product_version,
    toStartOfHour(timestamp) AS hour,
    count() AS events,
    uniqExactState(sipHash64(user_id)) AS users,
    uniqExactState(sipHash64(session_id)) AS sessions,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen
FROM feature_events
GROUP BY feature_id, product_version, hour;

INSERT INTO feature_usage_hourly
SELECT
    feature_id,
    product_version,
    toStartOfHour(timestamp) AS hour,
    count() AS events,
    uniqExactState(sipHash64(user_id)) AS users,
    uniqExactState(sipHash64(session_id)) AS sessions,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen
FROM feature_events
GROUP BY feature_id, product_version, hour;

DROP VIEW IF EXISTS feature_usage_by_user_mv;
DROP TABLE IF EXISTS feature_usage_by_user;

CREATE TABLE feature_usage_by_user
(
    user_id         String CODEC(ZSTD(3)),
    feature_id      LowCardinality(String),
    product_version LowCardinality(String),
    events          SimpleAggregateFunction(sum, UInt64),
    -- uniqExactState(sipHash64(session_id))
    sessions        AggregateFunction(uniqExact, UInt64),
    first_seen      SimpleAggregateFunction(min, DateTime('UTC')),
    last_seen       SimpleAggregateFunction(max, DateTime('UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (user_id, feature_id, product_version)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW feature_usage_by_user_mv TO feature_usage_by_user AS
SELECT
    user_id,
    feature_id,
    product_version,
    count() AS events,
    uniqExactState(sipHash64(session_id)) AS sessions,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen
FROM feature_events
GROUP BY user_id, feature_id, product_version;

INSERT INTO feature_usage_by_user
SELECT
    user_id,
    feature_id,
    product_version,
    count() AS events,
    uniqExactState(sipHash64(session_id)) AS sessions,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen
FROM feature_events
GROUP BY user_id, feature_id, product_version;
