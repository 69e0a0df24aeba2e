-- The raw events, one row per accepted event, exactly as posted (metadata kept as the JSON string it arrived as).
CREATE TABLE IF NOT EXISTS feature_events
(
    event_id        String,
    user_id         String,
    -- A few hundred features, versions and event types at most: dictionary-encoded columns
    -- compress to a byte or two per row and make GROUP BY on them cheap.
    feature_id      LowCardinality(String),
    product_version LowCardinality(String),
    event_type      LowCardinality(String),
    -- Second precision is what the API takes; events arrive roughly in time order, so
    -- deltas are small and compress well.
    timestamp       DateTime('UTC') CODEC(Delta, ZSTD(1)),
    session_id      String,
    metadata        String CODEC(ZSTD(3)),
    -- When the row reached ClickHouse: tells late and back-filled events apart.
    inserted_at     DateTime('UTC') DEFAULT now() CODEC(Delta, ZSTD(1))
)
ENGINE = MergeTree
-- Coarse yearly partitions: one insert writes one part per partition it touches, so a
-- back-fill spanning many months must not fan out into many parts ("too many parts").
PARTITION BY toYear(timestamp)
-- Every endpoint filters by feature_id and product_version, then by time: this order
-- lets the primary index skip granules for all three, and keeps similar rows together.
ORDER BY (feature_id, product_version, timestamp, user_id)
-- Remember recent insert blocks so a retried batch (same insert_deduplication_token)
-- is dropped instead of stored twice.
SETTINGS non_replicated_deduplication_window = 10000;
