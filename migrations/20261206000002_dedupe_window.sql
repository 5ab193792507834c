-- The PostgreSQL fallback of event dedupe keeps Redis's window
-- (`redis.dedupe_ttl_secs`): a key is a duplicate only within the window of
-- the event that holds it. When the window has passed, the next event with
-- the key takes it over (it is published, as Redis would let it be) and a
-- new window starts. The row stays its first event's record; these columns
-- name the event and the start of the current window (NULL: the row's own
-- event, since created_at).
ALTER TABLE events ADD COLUMN window_event uuid, ADD COLUMN window_at timestamptz;
