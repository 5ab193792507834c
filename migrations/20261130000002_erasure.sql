-- Erasure (data-protection requests): the payload of a notification or a
-- rejection is removed and the row kept as a tombstone (ids, times,
-- metadata) with the time it was erased.
ALTER TABLE notifications ADD COLUMN erased_at timestamptz;
ALTER TABLE rejections ADD COLUMN erased_at timestamptz;
