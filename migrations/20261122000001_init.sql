-- hookgate schema v1: the raw store (source of truth), the outbox that hands
-- notifications from ingress to dispatcher, published events (dedupe
-- fallback and audit), and rejections.

-- Every request a provider sent with a valid signature, byte-exact.
CREATE TABLE notifications (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant            text        NOT NULL,
    source            text        NOT NULL,
    kind              text        NOT NULL,
    -- Provider delivery id (Keeta messageId), or sha256 of the body.
    delivery_key      text        NOT NULL,
    body              bytea       NOT NULL,
    -- [{"name": ..., "value": ...}] as received (authorization-like values redacted).
    headers           jsonb       NOT NULL,
    remote_addr       text,
    received_at       timestamptz NOT NULL,
    -- Redeliveries of the same delivery key bump these instead of adding rows.
    delivery_count    integer     NOT NULL DEFAULT 1,
    last_received_at  timestamptz NOT NULL,
    -- Which signature recipe matched (NULL when not verified: observe mode).
    signature_recipe  text,
    verified          boolean     NOT NULL,
    traceparent       text,
    CONSTRAINT notifications_delivery_key UNIQUE (tenant, source, delivery_key)
);

-- One row per notification still to publish, published or parked.
CREATE TABLE outbox (
    notification_id   bigint      PRIMARY KEY REFERENCES notifications (id) ON DELETE CASCADE,
    tenant            text        NOT NULL,
    status            text        NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'published', 'parked')),
    attempts          integer     NOT NULL DEFAULT 0,
    available_at      timestamptz NOT NULL DEFAULT now(),
    lease_owner       uuid,
    lease_until       timestamptz,
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    published_at      timestamptz
);

-- Claims scan only pending rows, oldest first.
CREATE INDEX outbox_pending ON outbox (notification_id) WHERE status = 'pending';
CREATE INDEX outbox_parked ON outbox (notification_id) WHERE status = 'parked';

-- Wake dispatchers when work arrives (delivered at commit; one per transaction).
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hookgate_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Canonical events handed to RabbitMQ. The unique key is the dedupe
-- fallback when Redis is unavailable, and the audit trail otherwise.
CREATE TABLE events (
    event_id          uuid        PRIMARY KEY,
    tenant            text        NOT NULL,
    idempotency_key   text        NOT NULL,
    notification_id   bigint      NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    type              text        NOT NULL,
    routing_key       text        NOT NULL,
    published_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_idempotency UNIQUE (tenant, idempotency_key)
);
CREATE INDEX events_notification ON events (notification_id);

-- Requests that were refused, for troubleshooting. Never published.
CREATE TABLE rejections (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant            text,
    source            text,
    reason            text        NOT NULL,
    detail            text        NOT NULL,
    http_status       integer     NOT NULL,
    remote_addr       text,
    headers           jsonb       NOT NULL,
    -- At most the first 4 KiB of the body.
    body_prefix       bytea       NOT NULL,
    body_size         bigint      NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rejections_received ON rejections (received_at);
