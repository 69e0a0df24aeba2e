-- The customer account (tenant, installation) a user belongs to: seeds 002 and 003 reason
-- per tenant and per installation. Optional on ingest; '' when a client does not send it,
-- so Tinybird clients that do not know the column keep working unchanged.
ALTER TABLE feature_events
    ADD COLUMN IF NOT EXISTS account_id String DEFAULT '' CODEC(ZSTD(3)) AFTER metadata;

ALTER TABLE feature_events_quarantine
    ADD COLUMN IF NOT EXISTS account_id Nullable(String) AFTER metadata;
