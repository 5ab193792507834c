-- Watchfulness: incidents and their transitions (the operator events).

-- One row per incident. While it is not closed, (kind, tenant, source,
-- cause) names at most one: a storm of refusals is one incident with a
-- count, never one per request.
CREATE TABLE incidents (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             text        NOT NULL,
    tenant           text        NOT NULL DEFAULT '',
    source           text        NOT NULL DEFAULT '',
    cause            text        NOT NULL DEFAULT '',
    -- open | acknowledged | resolved | ignored
    state            text        NOT NULL,
    count            bigint      NOT NULL DEFAULT 0,
    samples          bigint[]    NOT NULL DEFAULT '{}',
    summary          text        NOT NULL,
    opened_at        timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    -- Set when resolved, or when an ignored incident's condition ended.
    closed_at        timestamptz
);
CREATE UNIQUE INDEX incidents_active ON incidents (kind, tenant, source, cause) WHERE closed_at IS NULL;
CREATE INDEX incidents_recent ON incidents (id DESC);

-- Each transition, once. Written in the transaction that makes it, so a
-- restart neither loses nor repeats one; published to the operator
-- exchange afterwards (published_at), under a short lease so that two
-- processes never publish the same one at once.
CREATE TABLE incident_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id    bigint      NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    state          text        NOT NULL,
    at             timestamptz NOT NULL,
    -- The token that moved it; '' for the evaluator.
    actor          text        NOT NULL DEFAULT '',
    routing_key    text        NOT NULL,
    event          jsonb       NOT NULL,
    published_at   timestamptz,
    leased_until   timestamptz,
    -- The HTTP notification (watch.notify_url), when one is configured:
    -- answered 2xx at, attempts so far, next attempt not before, lease.
    notified_at       timestamptz,
    notify_attempts   integer     NOT NULL DEFAULT 0,
    notify_next_at    timestamptz,
    notify_leased_until timestamptz
);
CREATE INDEX incident_events_of ON incident_events (incident_id, id);
CREATE INDEX incident_events_unpublished ON incident_events (id) WHERE published_at IS NULL;
CREATE INDEX incident_events_unnotified ON incident_events (id) WHERE notified_at IS NULL;
