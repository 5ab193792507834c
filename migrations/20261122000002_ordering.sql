-- Per-subject ordering: each outbox row carries the ordering key of its
-- events (tenant + ":" + subject, computed by the pure normalizer at ingress).
-- A row is claimed only when no earlier pending row of its key is leased or
-- waiting for a retry, so events of one subject are published in commit order.
ALTER TABLE outbox ADD COLUMN ordering_key text;

CREATE INDEX outbox_pending_key ON outbox (ordering_key, notification_id) WHERE status = 'pending';
