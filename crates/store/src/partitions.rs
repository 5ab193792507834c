//! Time partitions of `notifications`, as id ranges.
//!
//! Each partition spans [`PARTITION_IDS`] ids. The newest one is *open*:
//! ids are drawn in it. When it has been open for the configured time,
//! [`Store::roll_partitions`] attaches the next range and moves the id
//! sequence to its first id, so each partition holds the notifications of
//! one stretch of time while every read by id still finds its partition
//! from the id alone. [`Store::drop_expired_partitions`] drops a closed
//! partition once its newest row is past the cutoff (the longest retention
//! of any tenant) and it holds nothing pending or parked: its event records
//! and delivery keys are removed first (those tables are not partitioned:
//! their unique keys span every partition), then the partition goes whole,
//! bodies and all, with no row-by-row delete of the bulk.
//!
//! Rolling and dropping are serialized across processes by a
//! transaction-scoped advisory lock (a call cancelled midway leaves no lock
//! behind). Attaching takes a lock inserts pass; detaching takes the parent's
//! exclusive lock, waited for at most a second (a long admin query delays
//! the drop to the next round instead of stalling ingress behind it).

use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
pub use hookgate_api_types::{DroppedPartition, Partition};
use sqlx::Row;
use std::time::Duration;

/// Ids per partition (2^40: a partition never fills).
pub const PARTITION_IDS: i64 = 1 << 40;

/// Advisory lock key that serializes partition changes (`'hookpart'`).
pub(crate) const PARTITION_LOCK: i64 = 0x686f_6f6b_7061_7274;

/// A row newer than this before the cutoff keeps its partition: ids are
/// drawn before the commit, so a partition's newest row may be a little
/// newer than the time its id was drawn.
const SETTLE: chrono::Duration = chrono::Duration::hours(1);

/// The table name of the partition starting at `first_id`, made from the
/// number alone (never from stored text: it is written into DDL).
fn partition_name(first_id: i64) -> String {
    format!("notifications_p{}", first_id / PARTITION_IDS)
}

impl Store {
    /// Every partition, oldest first, with what decides whether it can go.
    pub async fn partitions(&self) -> Result<Vec<Partition>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.first_id, p.end_id, p.opened_at,
                    COALESCE((SELECT c.reltuples FROM pg_class c WHERE c.oid = to_regclass(p.name)), 0)::float8 AS est
             FROM notification_partitions p ORDER BY p.first_id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        let last = rows.len().saturating_sub(1);
        for (i, r) in rows.iter().enumerate() {
            let (first_id, end_id): (i64, i64) = (r.try_get("first_id")?, r.try_get("end_id")?);
            let (newest_received_at, held) = self.partition_state(first_id, end_id).await?;
            out.push(Partition {
                name: partition_name(first_id),
                first_id,
                end_id,
                opened_at: r.try_get("opened_at")?,
                open: i == last,
                rows_estimate: r.try_get::<f64, _>("est")?.max(0.0) as i64,
                newest_received_at,
                held,
            });
        }
        Ok(out)
    }

    /// The newest row's receipt time and the outbox rows of an id range.
    async fn partition_state(&self, first_id: i64, end_id: i64) -> Result<(Option<DateTime<Utc>>, i64), StoreError> {
        // Ids follow commit order, and a row's receipt precedes its commit:
        // the row with the highest id is the newest but for the few
        // seconds a request waits for its commit (see SETTLE).
        let newest: Option<DateTime<Utc>> = sqlx::query_scalar(
            "SELECT received_at FROM notifications WHERE id >= $1 AND id < $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(first_id)
        .bind(end_id)
        .fetch_optional(self.pool())
        .await?;
        let held: i64 = sqlx::query_scalar(
            "SELECT count(*)::int8 FROM outbox WHERE notification_id >= $1 AND notification_id < $2",
        )
        .bind(first_id)
        .bind(end_id)
        .fetch_one(self.pool())
        .await?;
        Ok((newest, held))
    }

    /// Opens the next partition when the open one has been open for
    /// `open_for`: attaches the next id range and moves the id sequence to
    /// it. Returns the name of the partition opened, if one was.
    pub async fn roll_partitions(&self, open_for: Duration) -> Result<Option<String>, StoreError> {
        let opened = self.open_next_if_due(open_for).await?;
        // Ids move on only once the range is attached (committed above), and
        // only forward; the lock makes the check and the move one step. Done
        // on every round, so a move lost to a crash is made at the next.
        let mut tx = self.pool().begin().await?;
        lock(&mut tx).await?;
        sqlx::query(
            "SELECT setval('notifications_id_seq', p.first_id, false)
             FROM (SELECT first_id FROM notification_partitions ORDER BY first_id DESC LIMIT 1) p,
                  notifications_id_seq s
             WHERE s.last_value < p.first_id",
        )
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(opened)
    }

    /// Attaches the next id range when the newest partition has been open
    /// for `open_for`; its name, if it did.
    async fn open_next_if_due(&self, open_for: Duration) -> Result<Option<String>, StoreError> {
        let mut tx = self.pool().begin().await?;
        lock(&mut tx).await?;
        let newest = sqlx::query(
            "SELECT first_id, end_id, opened_at <= now() - make_interval(secs => $1) AS due
             FROM notification_partitions ORDER BY first_id DESC LIMIT 1",
        )
        .bind(open_for.as_secs_f64())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(newest) = newest else {
            return Err(StoreError::Corrupt("no notification partition is recorded".into()));
        };
        let (first_id, end_id, due): (i64, i64, bool) = (
            newest.try_get("first_id")?,
            newest.try_get("end_id")?,
            newest.try_get("due")?,
        );
        if !due {
            return Ok(None);
        }
        let name = partition_name(end_id);
        let next_end = end_id.checked_add(PARTITION_IDS).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "notification ids exhausted after partition {}",
                partition_name(first_id)
            ))
        })?;
        // A table made on its own and then attached: ATTACH takes a lock
        // that lets inserts go on (CREATE … PARTITION OF would not).
        sqlx::query("SET LOCAL lock_timeout = '5s'").execute(&mut *tx).await?;
        sqlx::query(&format!(
            "CREATE TABLE {name} (LIKE notifications INCLUDING DEFAULTS,
                 CONSTRAINT {name}_range CHECK (id >= {end_id} AND id < {next_end}))"
        ))
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!(
            "ALTER TABLE notifications ATTACH PARTITION {name} FOR VALUES FROM ({end_id}) TO ({next_end})"
        ))
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!("ALTER TABLE {name} DROP CONSTRAINT {name}_range"))
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO notification_partitions (name, first_id, end_id) VALUES ($1, $2, $3)")
            .bind(&name)
            .bind(end_id)
            .bind(next_end)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(partition = %name, "opened a notification partition");
        Ok(Some(name))
    }

    /// The closed partitions whose rows are all older than `cutoff` (and
    /// settled) and of which none is pending or parked, with their rows by
    /// tenant: what [`Store::drop_expired_partitions`] would drop.
    pub async fn expired_partitions(&self, cutoff: DateTime<Utc>) -> Result<Vec<DroppedPartition>, StoreError> {
        let mut out = Vec::new();
        for p in self.partitions().await? {
            if p.open || p.held > 0 || p.newest_received_at.is_some_and(|t| t + SETTLE >= cutoff) {
                continue;
            }
            let rows = sqlx::query(
                "SELECT tenant, count(*)::int8 AS n FROM notifications
                 WHERE id >= $1 AND id < $2 GROUP BY tenant ORDER BY tenant",
            )
            .bind(p.first_id)
            .bind(p.end_id)
            .fetch_all(self.pool())
            .await?;
            let notifications = rows
                .iter()
                .map(|r| Ok::<_, sqlx::Error>((r.try_get("tenant")?, r.try_get("n")?)))
                .collect::<Result<_, _>>()?;
            out.push(DroppedPartition {
                name: p.name,
                first_id: p.first_id,
                notifications,
            });
        }
        Ok(out)
    }

    /// Drops the partitions [`Store::expired_partitions`] names: first the
    /// event records and delivery keys of their ids (`batch` rows per
    /// statement), then each partition whole. A partition whose table lock
    /// is not granted within a few seconds is left for the next round.
    pub async fn drop_expired_partitions(
        &self,
        cutoff: DateTime<Utc>,
        batch: i64,
    ) -> Result<Vec<DroppedPartition>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let conn = &mut *conn;
        let mut dropped = Vec::new();
        for p in self.expired_partitions(cutoff).await? {
            let (first_id, end_id) = (p.first_id, p.first_id.saturating_add(PARTITION_IDS));
            self.delete_in_batches(batch, || {
                sqlx::query(
                    "DELETE FROM events WHERE event_id IN (
                         SELECT event_id FROM events WHERE notification_id >= $1 AND notification_id < $2 LIMIT $3)",
                )
                .bind(first_id)
                .bind(end_id)
                .bind(batch)
            })
            .await?;
            // Delivery keys are found through the partition's rows, walked
            // by id (no index on the key table serves the id).
            let mut after = first_id - 1;
            loop {
                let last: Option<i64> = sqlx::query_scalar(
                    "WITH chunk AS (
                         SELECT id, tenant, source, delivery_key FROM notifications
                         WHERE id > $1 AND id < $2 ORDER BY id LIMIT $3
                     ), gone AS (
                         DELETE FROM deliveries d USING chunk
                         WHERE d.tenant = chunk.tenant AND d.source = chunk.source
                           AND d.delivery_key = chunk.delivery_key AND d.notification_id = chunk.id
                     )
                     SELECT max(id) FROM chunk",
                )
                .bind(after)
                .bind(end_id)
                .bind(batch)
                .fetch_one(&mut *conn)
                .await?;
                match last {
                    Some(id) => after = id,
                    None => break,
                }
            }
            let name = partition_name(first_id);
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            lock(&mut tx).await?;
            // DETACH takes the parent's exclusive lock: while it waits for a
            // long reader, inserts queue behind it. One second at most, then
            // the next round.
            sqlx::query("SET LOCAL lock_timeout = '1s'").execute(&mut *tx).await?;
            let detached = sqlx::query(&format!("ALTER TABLE notifications DETACH PARTITION {name}"))
                .execute(&mut *tx)
                .await;
            if let Err(e) = detached {
                tracing::warn!(partition = %name, error = %e, "partition not detached; retried at the next round");
                continue;
            }
            // Checked again under the table lock: nothing of these ids came
            // back to the outbox meanwhile (a requeue of a parked row).
            let held: i64 = sqlx::query_scalar(
                "SELECT count(*)::int8 FROM outbox WHERE notification_id >= $1 AND notification_id < $2",
            )
            .bind(first_id)
            .bind(end_id)
            .fetch_one(&mut *tx)
            .await?;
            if held > 0 {
                tx.rollback().await?;
                continue;
            }
            sqlx::query(&format!("DROP TABLE {name}")).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM notification_partitions WHERE first_id = $1")
                .bind(first_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(partition = %name, "retention dropped a partition");
            dropped.push(p);
        }
        Ok(dropped)
    }
}

/// Serializes partition changes across processes, until the transaction
/// ends (also when its future is dropped midway: no lock outlives it).
async fn lock(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(PARTITION_LOCK)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(feature = "test-support")]
impl Store {
    /// Makes every notification of a partition look received `days` ago,
    /// and the partition opened then (retention tests).
    pub async fn backdate_partition(&self, first_id: i64, days: i32) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE notifications SET received_at = now() - make_interval(days => $3)
             WHERE id >= $1 AND id < $2",
        )
        .bind(first_id)
        .bind(first_id + PARTITION_IDS)
        .bind(days)
        .execute(self.pool())
        .await?;
        sqlx::query(
            "UPDATE notification_partitions SET opened_at = now() - make_interval(days => $2) WHERE first_id = $1",
        )
        .bind(first_id)
        .bind(days)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
