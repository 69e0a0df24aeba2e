-- A second copy of the raw events sorted by user, kept by ClickHouse on every insert: the
-- per-user lookups of issue 10 (user_recent_features, events?user_id=) read a few granules
-- of one user instead of the whole window (the table itself is sorted by feature first).
-- Measured at 10M synthetic events, chDB, 2 shared cores: events?user_id= p50 223 -> 26 ms
-- (rows read 4.06M -> 66k), user_recent_features p50 23 -> 11 ms (975k -> 8k). Cost: about
-- 20 bytes per event on disk. Queries that do not filter by user_id keep reading the table.
ALTER TABLE feature_events
    ADD PROJECTION IF NOT EXISTS events_by_user (SELECT * ORDER BY user_id, timestamp);

-- Builds the projection for the rows already stored (a mutation; waits until done).
ALTER TABLE feature_events MATERIALIZE PROJECTION events_by_user SETTINGS mutations_sync = 1;
