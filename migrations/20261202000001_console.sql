-- The console: traffic rollups and replay items.

-- Requests per source and hour, by outcome (and a refusal's reason). Each
-- ingress process adds its own tally every few seconds (one row per source,
-- hour and outcome per flush, never one per webhook), so the overview and the
-- source health read a few hundred rows instead of counting notifications.
CREATE TABLE traffic_hourly (
    tenant   text        NOT NULL,
    source   text        NOT NULL,
    hour     timestamptz NOT NULL,
    -- 'accepted', 'duplicate' or 'rejected'.
    outcome  text        NOT NULL,
    -- The refusal's reason; '' for accepted requests.
    reason   text        NOT NULL DEFAULT '',
    count    bigint      NOT NULL,
    last_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant, source, hour, outcome, reason)
);
CREATE INDEX traffic_hourly_hour ON traffic_hourly (hour);

-- The last accepted and the last refused request per source, for "time
-- since the last accepted webhook" whatever the rollup's window.
CREATE TABLE source_activity (
    tenant            text NOT NULL,
    source            text NOT NULL,
    last_accepted_at  timestamptz,
    last_rejected_at  timestamptz,
    PRIMARY KEY (tenant, source)
);

-- Which notifications a replay job published again, so that a subject's
-- timeline shows its replays. Written per batch by the replay runner.
CREATE TABLE replay_items (
    notification_id  bigint      NOT NULL,
    job_id           bigint      NOT NULL REFERENCES replay_jobs (id) ON DELETE CASCADE,
    at               timestamptz NOT NULL DEFAULT now(),
    -- Messages confirmed for it; false when it failed.
    events           integer     NOT NULL,
    ok               boolean     NOT NULL,
    PRIMARY KEY (notification_id, job_id)
);
