-- The stale-state guard: per (tenant, subject, track) the furthest state
-- published, in the provider's own order of states (docs/events.md, "Stale
-- states"). The relay reads the states of a batch's subjects before it
-- publishes and advances them in the transaction that marks the rows
-- published, so the guard holds across relays and restarts. A state never
-- moves back: the upsert keeps the higher rank.
CREATE TABLE subject_states (
    tenant          text        NOT NULL,
    subject         text        NOT NULL,
    track           text        NOT NULL,
    rank            smallint    NOT NULL,
    -- Routing key of the event that reached it ("keeta.order.cancelled").
    state           text        NOT NULL,
    notification_id bigint      NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, subject, track)
);

-- Retention drops states not advanced for as long as notifications are kept.
CREATE INDEX subject_states_updated ON subject_states (updated_at);

-- An event published marked stale: the state its subject had reached.
ALTER TABLE events ADD COLUMN stale_behind text;
