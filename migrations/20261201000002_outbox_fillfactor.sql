-- A claim writes the lease (owner, until, attempts) of every row it takes;
-- none of those columns is indexed, so with room left on the page the update
-- is HOT (no new index entries in the outbox's four indexes).
ALTER TABLE outbox SET (fillfactor = 70);
