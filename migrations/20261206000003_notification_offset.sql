-- The normalization options a notification was received with, so that a
-- later configuration change does not re-time what is stored (its relay,
-- its replays): the UTC offset of a Pagsmile issuing source's zoneless
-- times, in minutes (NULL for kinds without zoneless times, and for rows
-- stored before this column: those are read at the source's current offset).
ALTER TABLE notifications ADD COLUMN utc_offset_minutes integer;
