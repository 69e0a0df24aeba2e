-- The ledger of `feature-events quarantine replay` (src/quarantine/replay.ts). A quarantined
-- row is named by a hash of what it is (raw line, arrival time, reasons); replaying it first
-- claims it here under a batch id, then stores the batch under deduplication tokens named
-- after that id, then writes the batch's 'done' row. A replay killed midway finds the claimed,
-- unfinished batch and stores it again with the same tokens, which ClickHouse drops if the
-- first attempt had landed: a replayed row is stored once. Claimed rows are replayed rows;
-- `quarantine list` hides them. Rows stay in the quarantine for audit (and its retention).
CREATE TABLE IF NOT EXISTS feature_events_quarantine_replays
(
    -- sipHash64(raw, insertion_date, c__error) of the quarantine row; 0 on a batch's 'done' row.
    row_key     UInt64,
    batch       String,
    state       Enum8('claimed' = 1, 'done' = 2),
    -- What replay did with a claimed row: stored in feature_events, or quarantined again
    -- with a new reason (a new quarantine row).
    outcome     Enum8('stored' = 1, 'requarantined' = 2, 'none' = 3),
    replayed_at DateTime('UTC') DEFAULT now()
)
ENGINE = MergeTree
ORDER BY (row_key, batch)
SETTINGS non_replicated_deduplication_window = 10000;
