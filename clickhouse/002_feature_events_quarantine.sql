-- Rows that failed validation, in Tinybird's quarantine shape: the raw line, the columns we
-- could read (as nullable strings), which columns were wrong and why, and when it arrived.
CREATE TABLE IF NOT EXISTS feature_events_quarantine
(
    raw             String CODEC(ZSTD(3)),
    event_id        Nullable(String),
    user_id         Nullable(String),
    feature_id      Nullable(String),
    product_version Nullable(String),
    event_type      Nullable(String),
    timestamp       Nullable(String),
    session_id      Nullable(String),
    metadata        Nullable(String),
    c__error_column Array(String),
    c__error        Array(String),
    insertion_date  DateTime('UTC') DEFAULT now()
)
ENGINE = MergeTree
-- Rarely large and read newest first; monthly partitions make dropping old rejects cheap.
PARTITION BY toYYYYMM(insertion_date)
ORDER BY insertion_date
SETTINGS non_replicated_deduplication_window = 10000;
