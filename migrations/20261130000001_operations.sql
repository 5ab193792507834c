-- Operations (the admin API): whole rejected bodies and what re-admitting
-- needs, the audit log of mutating admin calls, replay jobs, and the index a
-- subject's timeline reads.

-- A rejected request keeps its whole body (bounded by the source's body
-- limit, which the reader enforces) and the URL it was sent to (some
-- signatures cover it), so that it can be verified again and re-admitted.
ALTER TABLE rejections RENAME COLUMN body_prefix TO body;
ALTER TABLE rejections ADD COLUMN request_url text;
-- Set when an operator re-admitted it: the notification it became.
ALTER TABLE rejections ADD COLUMN readmitted_as bigint;
ALTER TABLE rejections ADD COLUMN readmitted_at timestamptz;
CREATE INDEX rejections_tenant ON rejections (tenant, id);

-- Every mutating admin call: who (token name), what, on what, and how it went.
CREATE TABLE admin_audit (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    token       text        NOT NULL,
    action      text        NOT NULL,
    tenant      text,
    target      text,
    request     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status      integer     NOT NULL,
    result      jsonb       NOT NULL DEFAULT '{}'::jsonb
);

-- A replay: notifications chosen by a filter (or one id), normalized again
-- from their stored raw request and published again, at a bounded rate. The
-- set is fixed when the job is made (ids up to `max_id`), so what runs is
-- what the plan counted; `cursor` (the last id done) survives restarts.
CREATE TABLE replay_jobs (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant        text        NOT NULL,
    filter        jsonb       NOT NULL,
    -- NULL: the tenant exchange (every binding); else only this queue.
    target_queue  text,
    rate_per_sec  integer     NOT NULL CHECK (rate_per_sec > 0),
    status        text        NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'running', 'done', 'cancelled', 'failed')),
    planned       bigint      NOT NULL,
    max_id        bigint      NOT NULL,
    cursor        bigint      NOT NULL DEFAULT 0,
    replayed      bigint      NOT NULL DEFAULT 0,
    events        bigint      NOT NULL DEFAULT 0,
    failed        bigint      NOT NULL DEFAULT 0,
    last_error    text,
    created_by    text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    lease_owner   uuid,
    lease_until   timestamptz
);
CREATE INDEX replay_jobs_open ON replay_jobs (id) WHERE status IN ('pending', 'running');

-- Wake the replay runners when a job is made.
CREATE FUNCTION replay_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hookgate_replay', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER replay_jobs_notify AFTER INSERT ON replay_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION replay_jobs_notify();

-- A subject's timeline (every notification of tenant:subject, any status).
CREATE INDEX outbox_subject ON outbox (ordering_key, notification_id);
