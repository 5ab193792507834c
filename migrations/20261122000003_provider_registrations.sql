-- What `hookgate register` set up at the providers, and the verification keys
-- they handed back.

-- One row per registration: a BH webhook listener (event = eventType,
-- remote_id = webhookId) or a Keeta callback URL (event = eventId, per
-- test/formal set).
CREATE TABLE provider_webhooks (
    tenant         text        NOT NULL,
    source         text        NOT NULL,
    provider       text        NOT NULL CHECK (provider IN ('bh', 'keeta')),
    event          text        NOT NULL,
    is_test        boolean     NOT NULL DEFAULT false,
    remote_id      text,
    url            text        NOT NULL,
    -- The provider's status as returned (BH: 10 active, 20 disabled, 30 deleted).
    status         integer,
    -- Base64 DER SPKI the provider returned for this registration (BH).
    public_key     text,
    registered_at  timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, source, provider, event, is_test)
);

-- Verification keys learned from providers. Ingress accepts a signature made
-- with any key here that is not removed, besides the keys in configuration;
-- a rotation adds the new key and keeps the old one until it is removed.
CREATE TABLE provider_keys (
    tenant        text        NOT NULL,
    source        text        NOT NULL,
    fingerprint   text        NOT NULL,
    public_key    text        NOT NULL,
    -- The registration that returned it (BH webhookId).
    remote_id     text,
    added_at      timestamptz NOT NULL DEFAULT now(),
    removed_at    timestamptz,
    PRIMARY KEY (tenant, source, fingerprint)
);

-- Every change to the keys wakes the ingress processes (they reload at once).
CREATE FUNCTION hookgate_provider_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hookgate_provider_keys', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER provider_keys_changed
    AFTER INSERT OR UPDATE OR DELETE ON provider_keys
    FOR EACH STATEMENT EXECUTE FUNCTION hookgate_provider_keys_changed();
