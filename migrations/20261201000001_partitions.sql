-- Notifications in id-range partitions, so retention drops a whole partition
-- once every row in it is past the longest retention; delivery keys in a
-- narrow table of their own; published rows leave the outbox.
--
-- Why id ranges and not time ranges: every read on the webhook path (claims,
-- replay, the admin API) is by id, and ids follow commit order. A time range
-- is made an id range by moving the id sequence to the next partition's first
-- id when a partition has been open `retention.partition_hours` (the
-- relaying processes do it, see crates/store/src/partitions.rs). Each
-- partition spans 2^40 ids, so one never fills.

-- 1. Redelivery dedupe. A unique key of a partitioned table must contain the
--    partition key, so (tenant, source, delivery_key) moves here, with the
--    counts a redelivery bumps. The notification id is drawn here, first
--    (the identity of the old table gives way to a sequence of that name).
ALTER TABLE notifications ALTER COLUMN id DROP IDENTITY;
CREATE SEQUENCE notifications_id_seq AS bigint;
CREATE TABLE deliveries (
    tenant            text        NOT NULL,
    source            text        NOT NULL,
    delivery_key      text        NOT NULL,
    notification_id   bigint      NOT NULL DEFAULT nextval('notifications_id_seq'),
    delivery_count    integer     NOT NULL DEFAULT 1,
    last_received_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant, source, delivery_key)
);
INSERT INTO deliveries (tenant, source, delivery_key, notification_id, delivery_count, last_received_at)
    SELECT tenant, source, delivery_key, id, delivery_count, last_received_at FROM notifications;

-- 2. The subject moves onto the notification (the outbox no longer keeps
--    published rows, and a subject's timeline reads every row).
ALTER TABLE notifications ADD COLUMN ordering_key text;
UPDATE notifications n SET ordering_key = o.ordering_key
    FROM outbox o WHERE o.notification_id = n.id AND o.ordering_key IS NOT NULL;

-- 3. The foreign keys go: a referenced partition cannot be dropped, and
--    their per-row checks cost every insert. Retention removes outbox and
--    event rows of a partition before it drops it.
ALTER TABLE outbox DROP CONSTRAINT outbox_notification_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_notification_id_fkey;

-- 4. The existing table becomes the first partition.
ALTER TABLE notifications DROP CONSTRAINT notifications_delivery_key;
ALTER TABLE notifications DROP COLUMN delivery_count;
ALTER TABLE notifications DROP COLUMN last_received_at;
ALTER TABLE notifications RENAME TO notifications_p0;
ALTER TABLE notifications_p0 RENAME CONSTRAINT notifications_pkey TO notifications_p0_pkey;
SELECT setval('notifications_id_seq', COALESCE((SELECT max(id) FROM notifications_p0), 0) + 1, false);

CREATE TABLE notifications (
    id                bigint      NOT NULL,
    tenant            text        NOT NULL,
    source            text        NOT NULL,
    kind              text        NOT NULL,
    delivery_key      text        NOT NULL,
    body              bytea       NOT NULL,
    headers           jsonb       NOT NULL,
    remote_addr       text,
    received_at       timestamptz NOT NULL,
    signature_recipe  text,
    verified          boolean     NOT NULL,
    traceparent       text,
    erased_at         timestamptz,
    ordering_key      text,
    PRIMARY KEY (id)
) PARTITION BY RANGE (id);
ALTER SEQUENCE notifications_id_seq OWNED BY deliveries.notification_id;

-- A CHECK matching the range spares ATTACH its scan of the rows.
ALTER TABLE notifications_p0 ADD CONSTRAINT notifications_p0_range CHECK (id >= 0 AND id < 1099511627776);
ALTER TABLE notifications ATTACH PARTITION notifications_p0 FOR VALUES FROM (0) TO (1099511627776);
ALTER TABLE notifications_p0 DROP CONSTRAINT notifications_p0_range;

-- A subject's timeline (every notification of tenant:subject, any status).
CREATE INDEX notifications_subject ON notifications (ordering_key, id) WHERE ordering_key IS NOT NULL;
DROP INDEX outbox_subject;

-- 5. Partitions, in order; the newest is the one ids are drawn in.
CREATE TABLE notification_partitions (
    name        text        PRIMARY KEY,
    first_id    bigint      NOT NULL UNIQUE,
    end_id      bigint      NOT NULL,
    opened_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO notification_partitions (name, first_id, end_id, opened_at)
    VALUES ('notifications_p0', 0, 1099511627776,
            COALESCE((SELECT min(received_at) FROM notifications_p0), now()));

-- 6. Published rows leave the outbox: it holds what is pending or parked.
--    Publish times are the events' `published_at`.
DELETE FROM outbox WHERE status = 'published';
ALTER TABLE outbox DROP COLUMN published_at;
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'parked'));
