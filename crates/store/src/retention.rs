//! Retention row by row (old published notifications of a tenant whose
//! retention is shorter than the longest, and old rejections, removed in
//! short batches; whole partitions are dropped by `partitions`) and erasure
//! (payloads removed, rows kept as tombstones).
//!
//! Retention never removes a pending or parked notification: one waits for
//! the relay, the other for an operator. Rows are found by walking the
//! primary key from the oldest id (ids follow commit order, so the rows old
//! enough to remove come first): no index on time is kept on the webhook
//! path for it. A row whose time is out of that order (a re-admitted
//! request keeps the time it was first received) is removed no earlier than
//! the rows committed before it; no row newer than the cutoff is ever
//! removed (each is checked against it).

use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
pub use hookgate_api_types::Erased;
use sqlx::Row;

/// Which of a tenant's stored requests to erase.
#[derive(Debug, Clone, Default)]
pub struct ErasureScope<'a> {
    /// Tenant.
    pub tenant: &'a str,
    /// Only notifications of this subject.
    pub subject: Option<&'a str>,
    /// Received at or after.
    pub since: Option<DateTime<Utc>>,
    /// Received before.
    pub until: Option<DateTime<Utc>>,
}

impl Store {
    /// The first id received at or after `cutoff` (`i64::MAX` when none):
    /// every row to remove has a smaller id.
    async fn first_id_since(&self, cutoff: DateTime<Utc>) -> Result<i64, StoreError> {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM notifications WHERE received_at >= $1 ORDER BY id LIMIT 1")
                .bind(cutoff)
                .fetch_optional(self.pool())
                .await?;
        Ok(id.unwrap_or(i64::MAX))
    }

    /// How many published notifications of `tenant` and rejections naming
    /// it are older than `cutoff`.
    pub async fn retention_count(&self, tenant: &str, cutoff: DateTime<Utc>) -> Result<(i64, i64), StoreError> {
        let boundary = self.first_id_since(cutoff).await?;
        let notifications: i64 = sqlx::query_scalar(
            "SELECT count(*)::int8 FROM notifications n
             WHERE n.id < $1 AND n.tenant = $2 AND n.received_at < $3
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.notification_id = n.id)",
        )
        .bind(boundary)
        .bind(tenant)
        .bind(cutoff)
        .fetch_one(self.pool())
        .await?;
        let rejections: i64 =
            sqlx::query_scalar("SELECT count(*)::int8 FROM rejections WHERE received_at < $1 AND tenant = $2")
                .bind(cutoff)
                .bind(tenant)
                .fetch_one(self.pool())
                .await?;
        Ok((notifications, rejections))
    }

    /// Rejections older than `cutoff` that name no tenant of `configured`
    /// (unknown tenants, or none).
    pub async fn retention_count_unowned(
        &self,
        configured: &[String],
        cutoff: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT count(*)::int8 FROM rejections WHERE received_at < $1 AND (tenant IS NULL OR NOT tenant = ANY($2))",
        )
        .bind(cutoff)
        .bind(configured)
        .fetch_one(self.pool())
        .await?)
    }

    /// Removes published notifications of `tenant` older than `cutoff`
    /// (with their delivery keys and event records), `batch` rows per
    /// statement; returns how many.
    pub async fn expire_notifications(
        &self,
        tenant: &str,
        cutoff: DateTime<Utc>,
        batch: i64,
    ) -> Result<i64, StoreError> {
        let boundary = self.first_id_since(cutoff).await?;
        let mut total = 0;
        loop {
            let done: i64 = sqlx::query_scalar(
                "WITH gone AS (
                     DELETE FROM notifications WHERE id IN (
                         SELECT n.id FROM notifications n
                         WHERE n.id < $1 AND n.tenant = $2 AND n.received_at < $3
                           AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.notification_id = n.id)
                         ORDER BY n.id LIMIT $4)
                     RETURNING id, tenant, source, delivery_key
                 ), keys AS (
                     DELETE FROM deliveries d USING gone
                     WHERE d.tenant = gone.tenant AND d.source = gone.source
                       AND d.delivery_key = gone.delivery_key AND d.notification_id = gone.id
                 ), events AS (
                     DELETE FROM events e USING gone WHERE e.notification_id = gone.id
                 )
                 SELECT count(*)::int8 FROM gone",
            )
            .bind(boundary)
            .bind(tenant)
            .bind(cutoff)
            .bind(batch)
            .fetch_one(self.pool())
            .await?;
            total += done;
            if done < batch {
                return Ok(total);
            }
        }
    }

    /// Removes rejections older than `cutoff`: those naming `tenant`, or
    /// with `tenant` `None`, those naming no tenant of `configured`.
    pub async fn expire_rejections(
        &self,
        tenant: Option<&str>,
        configured: &[String],
        cutoff: DateTime<Utc>,
        batch: i64,
    ) -> Result<i64, StoreError> {
        self.delete_in_batches(batch, || {
            sqlx::query(
                "DELETE FROM rejections WHERE id IN (
                     SELECT id FROM rejections WHERE received_at < $1
                       AND CASE WHEN $2::text IS NULL THEN (tenant IS NULL OR NOT tenant = ANY($3)) ELSE tenant = $2 END
                     ORDER BY id LIMIT $4)",
            )
            .bind(cutoff)
            .bind(tenant)
            .bind(configured)
            .bind(batch)
        })
        .await
    }

    /// Runs a `DELETE … LIMIT batch` until it removes fewer than `batch`
    /// rows (one short transaction each); returns how many it removed.
    pub(crate) async fn delete_in_batches<'q>(
        &self,
        batch: i64,
        statement: impl Fn() -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> Result<i64, StoreError> {
        let mut total = 0;
        loop {
            let done = statement().execute(self.pool()).await?.rows_affected() as i64;
            total += done;
            if done < batch {
                return Ok(total);
            }
        }
    }

    /// Erases the payloads (body, headers) of a tenant's notifications of a
    /// subject or a time range, and of its rejections in that time range,
    /// keeping each row as a tombstone. Pending notifications are skipped.
    /// With `dry_run`, counts only.
    pub async fn erase(&self, scope: &ErasureScope<'_>, dry_run: bool) -> Result<Erased, StoreError> {
        let chosen = "n.tenant = $1
              AND ($2::text IS NULL OR n.ordering_key = n.tenant || ':' || $2)
              AND ($3::timestamptz IS NULL OR n.received_at >= $3)
              AND ($4::timestamptz IS NULL OR n.received_at < $4)
              AND n.erased_at IS NULL";
        let counts = sqlx::query(&format!(
            "SELECT count(*) FILTER (WHERE o.status IS DISTINCT FROM 'pending')::int8 AS erasable,
                    count(*) FILTER (WHERE o.status = 'pending')::int8 AS pending
             FROM {} WHERE {chosen}",
            crate::ops::WITH_OUTBOX
        ))
        .bind(scope.tenant)
        .bind(scope.subject)
        .bind(scope.since)
        .bind(scope.until)
        .fetch_one(self.pool())
        .await?;
        let mut erased = Erased {
            notifications: counts.try_get("erasable")?,
            pending_skipped: counts.try_get("pending")?,
            rejections: 0,
        };
        // Rejections carry no subject: only a time range erases them.
        let rejections_chosen = "tenant = $1 AND ($2::timestamptz IS NULL OR received_at >= $2)
              AND ($3::timestamptz IS NULL OR received_at < $3) AND erased_at IS NULL";
        let by_time = scope.subject.is_none();
        if dry_run {
            if by_time {
                erased.rejections = sqlx::query_scalar(&format!(
                    "SELECT count(*)::int8 FROM rejections WHERE {rejections_chosen}"
                ))
                .bind(scope.tenant)
                .bind(scope.since)
                .bind(scope.until)
                .fetch_one(self.pool())
                .await?;
            }
            return Ok(erased);
        }
        let mut tx = self.pool().begin().await?;
        erased.notifications = sqlx::query(&format!(
            "UPDATE notifications n SET body = '\\x'::bytea, headers = '[]'::jsonb, erased_at = now()
             WHERE {chosen}
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.notification_id = n.id AND o.status = 'pending')"
        ))
        .bind(scope.tenant)
        .bind(scope.subject)
        .bind(scope.since)
        .bind(scope.until)
        .execute(&mut *tx)
        .await?
        .rows_affected() as i64;
        if by_time {
            erased.rejections = sqlx::query(&format!(
                "UPDATE rejections SET body = '\\x'::bytea, headers = '[]'::jsonb, detail = 'erased',
                        erased_at = now() WHERE {rejections_chosen}"
            ))
            .bind(scope.tenant)
            .bind(scope.since)
            .bind(scope.until)
            .execute(&mut *tx)
            .await?
            .rows_affected() as i64;
        }
        tx.commit().await?;
        Ok(erased)
    }
}

#[cfg(feature = "test-support")]
impl Store {
    /// Makes a notification look received `days` ago (retention tests).
    pub async fn backdate_notification(&self, id: i64, days: i32) -> Result<(), StoreError> {
        sqlx::query("UPDATE notifications SET received_at = now() - make_interval(days => $2) WHERE id = $1")
            .bind(id)
            .bind(days)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Makes every rejection of a tenant look received `days` ago.
    pub async fn backdate_rejections(&self, tenant: &str, days: i32) -> Result<(), StoreError> {
        sqlx::query("UPDATE rejections SET received_at = now() - make_interval(days => $2) WHERE tenant = $1")
            .bind(tenant)
            .bind(days)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
