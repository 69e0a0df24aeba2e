-- An event without a session_id ('' : the column's default, and what clients send when they
-- have none) belongs to no session. The rollups of 005 counted '' as one more session, so
-- three session-less events answered unique_sessions: 1. The views now skip '' and the
-- rollups are rebuilt from feature_events so that rows stored before this file are right too.
-- Re-runnable from the top (views dropped and recreated, rollups emptied and refilled). Like
-- 005 it runs at start, before any writer, so no row lands between the refill and the view.

DROP VIEW IF EXISTS feature_usage_hourly_mv;
TRUNCATE TABLE IF EXISTS feature_usage_hourly;

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

INSERT INTO feature_usage_hourly
-- Not deduplicated: after TRUNCATE, a rebuilt block equal to one the view once wrote
-- (data without empty sessions) must not be taken for a retry of it and dropped.
SETTINGS insert_deduplicate = 0
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

DROP VIEW IF EXISTS feature_usage_by_user_mv;
TRUNCATE TABLE IF EXISTS feature_usage_by_user;

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

INSERT INTO feature_usage_by_user
SETTINGS insert_deduplicate = 0
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
