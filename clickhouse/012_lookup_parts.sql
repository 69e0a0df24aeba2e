-- Point lookups (issue 15): fewer, tighter reads per lookup, on the per-user rollup and the raw events.
-- Measured at 10M generated events, chDB, one user_feature_usage query (CPU time inside
-- chDB per query, scripts/bench/lookup-cost.ts; the rollup had 6 active parts):
--  * a lookup reads one 256-row granule per part, but decompresses the whole compressed
--    block around it (64 KiB and more by default): 3.3 MB decompressed for ~2,300 rows.
--    Blocks of 4-8 KiB: 0.46 MB, 10.9 -> 8.2 ms inside chDB; 6% more bytes on disk.
--  * each active part costs a lookup about 0.9 ms whatever it reads (opening the part's
--    column files, its marks, one more source in the plan): 6 parts 8.2 ms, one part 3.7 ms.
--    Background merges leave several parts of mixed sizes behind (6-9 at 10M); once every
--    part is older than 10 minutes (no insert in that time) the whole rollup is merged into
--    one. Under a steady stream nothing more is merged than before; each quiet spell costs
--    one rewrite of the rollup (about 10 s of one core at 10M events, 110 MB).
-- Settings only: parts already on disk keep their blocks until they are merged.
ALTER TABLE feature_usage_by_user
    MODIFY SETTING
        min_compress_block_size = 4096,
        max_compress_block_size = 8192,
        min_age_to_force_merge_seconds = 600,
        min_age_to_force_merge_on_partition_only = 1;

-- The raw events' per-user lookups (user_recent_features, events?user_id=) read the
-- events_by_user projection: one 8,192-row granule per active part of the months in the
-- window, 7-8 parts at 10M. The same rule per monthly partition: a month whose parts are all
-- older than 10 minutes is merged into one part. Past months are merged once (again only if
-- late events arrive); the current month only in quiet spells.
ALTER TABLE feature_events
    MODIFY SETTING
        min_age_to_force_merge_seconds = 600,
        min_age_to_force_merge_on_partition_only = 1;
