-- Raw events in monthly partitions, so retention (RAW_RETENTION_DAYS, a TTL the service sets at
-- start: src/clickhouse/retention) drops whole parts instead of rewriting them. A part lies in
-- one partition; with ttl_only_drop_parts a part is removed once its newest row has expired, and
-- a month's parts all expire within a month of each other. Under yearly partitions a part's
-- rows spanned up to a year: nothing could go before the year's last day was past retention, and
-- row-level expiry would rewrite every part of the year again and again. Daily partitions would
-- expire to the day, but a back-fill batch spanning a year would write 365 parts in one insert.
-- docs/operations.md (Retention) has the arithmetic: one part per month an insert touches.
-- The partition key cannot be altered in place: the table is rebuilt from itself and swapped in
-- (as 008 did); the rollups are not touched. Re-runnable from the top; run before any writer
-- starts (the service does, at start): rows inserted while the views are dropped are missed.

DROP VIEW IF EXISTS feature_usage_hourly_mv;
DROP VIEW IF EXISTS feature_usage_by_user_mv;
DROP TABLE IF EXISTS feature_events_old;
DROP TABLE IF EXISTS feature_events_new;

CREATE TABLE feature_events_new
(
    event_id        String CODEC(ZSTD(3)),
    user_id         String CODEC(ZSTD(3)),
    feature_id      LowCardinality(String),
    product_version LowCardinality(String),
    event_type      LowCardinality(String),
    timestamp       DateTime('UTC') CODEC(Delta, ZSTD(1)),
    session_id      String CODEC(ZSTD(3)),
    metadata        String CODEC(ZSTD(3)),
    account_id      String DEFAULT '' CODEC(ZSTD(3)),
    inserted_at     DateTime('UTC') DEFAULT now() CODEC(Delta, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (feature_id, product_version, timestamp, user_id)
SETTINGS non_replicated_deduplication_window = 10000, ttl_only_drop_parts = 1;

-- Before the copy, so the copied parts are written with it (007's per-user sort order).
ALTER TABLE feature_events_new
    ADD PROJECTION IF NOT EXISTS events_by_user (SELECT * ORDER BY user_id, timestamp);

INSERT INTO feature_events_new
-- A stored history may span any number of months; not a retry, so not deduplicated.
SETTINGS insert_deduplicate = 0, max_partitions_per_insert_block = 0
SELECT event_id, user_id, feature_id, product_version, event_type, timestamp, session_id, metadata, account_id, inserted_at
FROM feature_events;

RENAME TABLE feature_events TO feature_events_old, feature_events_new TO feature_events;

DROP TABLE feature_events_old;

CREATE MATERIALIZED VIEW feature_usage_hourly_mv TO feature_usage_hourly AS
SELECT
    feature_id,
    product_version,
    toStartOfHour(timestamp) AS hour,
    count() AS events,
    uniqExactState(sipHash64(user_id)) AS users,
    uniqExactStateIf(sipHash64(session_id), session_id != '') AS sessions,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen
FROM feature_events
GROUP BY feature_id, product_version, hour;

CREATE MATERIALIZED VIEW feature_usage_by_user_mv TO feature_usage_by_user AS
SELECT
    user_id,
    feature_id,
    product_version,
    count() AS events,
    uniqExactStateIf(sipHash64(session_id), session_id != '') AS sessions,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen
FROM feature_events
GROUP BY user_id, feature_id, product_version;
