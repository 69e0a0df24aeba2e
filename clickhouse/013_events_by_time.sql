-- A narrow copy of the raw events in time order (issue 15), kept by a view on every insert,
-- for the reads that want a time range of every feature: the timeline's edges and
-- feature_retention's cohort. feature_events is sorted by (feature_id, product_version,
-- timestamp), so a time range without a feature reads at least one 8,192-row granule per
-- feature and version, and once a month is merged into one part (012) no part is skipped
-- by its dates either. Measured at 10M generated events, chDB, months merged:
--  * the timeline's partial first day (28 minutes raw + 10 whole hours of the rollup, every
--    feature): 1.5M rows read, ~250 ms of chDB CPU; from this table alone 57k rows, ~15 ms;
--  * feature_retention's 5-week cohort: 5.20M rows read (4.04M before 012's merges, which
--    is the regression the last full run showed), ~690 ms CPU; from this table 3.89M, ~480 ms.
-- Cost: ~5 bytes per event (user_id 2.9, feature_id 1.0, product_version 0.6, timestamp 0.5).
-- The raw retention (RAW_RETENTION_DAYS) expires its rows like feature_events' (src/clickhouse/retention).
-- Re-runnable from the top; a back-fill, so run before any writer starts (the service does, at start).

DROP VIEW IF EXISTS feature_events_by_time_mv;

CREATE TABLE IF NOT EXISTS feature_events_by_time
(
    timestamp       DateTime('UTC') CODEC(Delta, ZSTD(1)),
    feature_id      LowCardinality(String),
    product_version LowCardinality(String),
    user_id         String CODEC(ZSTD(3))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY timestamp
-- The same deduplication window as the raw table, so a retried insert is dropped here too.
SETTINGS non_replicated_deduplication_window = 10000, ttl_only_drop_parts = 1;

TRUNCATE TABLE IF EXISTS feature_events_by_time;

INSERT INTO feature_events_by_time
-- A stored history may span any number of months; not a retry, so not deduplicated.
SETTINGS insert_deduplicate = 0, max_partitions_per_insert_block = 0
SELECT timestamp, feature_id, product_version, user_id
FROM feature_events;

CREATE MATERIALIZED VIEW feature_events_by_time_mv TO feature_events_by_time AS
SELECT timestamp, feature_id, product_version, user_id
FROM feature_events;
