-- Per-tenant HTTP notifications of operator events (a tenant file's
-- `[watch] notify_url`): one row per transition of a tenant's incident,
-- written with the transition. The notifier sends those of tenants that have
-- a URL now (transitions of the last day: a URL configured later does not
-- receive the tenant's whole history) and records the answer here; the
-- gateway's own URL keeps its columns on incident_events.
-- Retention removes rows older than two days (sent or not, they are past
-- their window).
CREATE TABLE incident_deliveries (
    event_id      bigint      NOT NULL REFERENCES incident_events (id) ON DELETE CASCADE,
    tenant        text        NOT NULL,
    at            timestamptz NOT NULL,
    notified_at   timestamptz,
    attempts      integer     NOT NULL DEFAULT 0,
    next_at       timestamptz,
    leased_until  timestamptz,
    PRIMARY KEY (event_id, tenant)
);
CREATE INDEX incident_deliveries_due ON incident_deliveries (tenant, event_id) WHERE notified_at IS NULL;
