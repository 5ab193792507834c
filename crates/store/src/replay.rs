//! Replay jobs: made by the admin API, run by the relays' replay runner,
//! stored here so that they survive restarts and report progress.

use crate::ops::{NotificationFilter, Window};
use crate::outbox::Claimed;
use crate::{Store, StoreError};
pub use hookgate_api_types::ReplayJob;
use hookgate_core::{SourceId, TenantId};
use hookgate_watch::{Condition, Key, Kind};
use sqlx::postgres::PgRow;
use sqlx::Row;
use std::time::Duration;
use uuid::Uuid;

/// Channel the job trigger notifies.
pub const REPLAY_CHANNEL: &str = "hookgate_replay";

const JOB: &str = "id, tenant, filter, target_queue, rate_per_sec, status, planned, max_id, cursor, replayed,
    events, failed, last_error, created_by, created_at, started_at, finished_at";

fn job(r: &PgRow) -> Result<ReplayJob, StoreError> {
    let filter: serde_json::Value = r.try_get("filter")?;
    let filter = serde_json::from_value(filter).map_err(|e| StoreError::Corrupt(format!("replay filter: {e}")))?;
    Ok(ReplayJob {
        id: r.try_get("id")?,
        tenant: r.try_get("tenant")?,
        filter,
        target_queue: r.try_get("target_queue")?,
        rate_per_sec: r.try_get("rate_per_sec")?,
        status: r.try_get("status")?,
        planned: r.try_get("planned")?,
        max_id: r.try_get("max_id")?,
        cursor: r.try_get("cursor")?,
        replayed: r.try_get("replayed")?,
        events: r.try_get("events")?,
        failed: r.try_get("failed")?,
        last_error: r.try_get("last_error")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

/// What a replay job is made from.
#[derive(Debug, Clone)]
pub struct NewReplayJob<'a> {
    /// Tenant (the filter's).
    pub tenant: &'a str,
    /// Which notifications.
    pub filter: &'a NotificationFilter,
    /// Only this queue.
    pub target_queue: Option<&'a str>,
    /// Notifications per second.
    pub rate_per_sec: i32,
    /// Counted by the plan.
    pub planned: i64,
    /// Highest id of the set.
    pub max_id: i64,
    /// Token name.
    pub created_by: &'a str,
}

/// Progress of one replayed batch.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplayProgress {
    /// The last id done.
    pub cursor: i64,
    /// Notifications replayed.
    pub replayed: i64,
    /// Messages confirmed.
    pub events: i64,
    /// Notifications that failed.
    pub failed: i64,
}

impl Store {
    /// Stores a new job (it runs as soon as a runner sees it).
    pub async fn create_replay_job(&self, new: &NewReplayJob<'_>) -> Result<ReplayJob, StoreError> {
        let filter = serde_json::to_value(new.filter).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sql = format!(
            "INSERT INTO replay_jobs (tenant, filter, target_queue, rate_per_sec, planned, max_id, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {JOB}"
        );
        let row = sqlx::query(&sql)
            .bind(new.tenant)
            .bind(filter)
            .bind(new.target_queue)
            .bind(new.rate_per_sec)
            .bind(new.planned)
            .bind(new.max_id)
            .bind(new.created_by)
            .fetch_one(self.pool())
            .await?;
        job(&row)
    }

    /// One job.
    pub async fn replay_job(&self, id: i64) -> Result<Option<ReplayJob>, StoreError> {
        let sql = format!("SELECT {JOB} FROM replay_jobs WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(job).transpose()
    }

    /// Jobs, newest first.
    pub async fn replay_jobs(&self, window: &Window) -> Result<Vec<ReplayJob>, StoreError> {
        let sql = format!(
            "SELECT {JOB} FROM replay_jobs WHERE ($1::text[] IS NULL OR tenant = ANY($1))
             AND ($2::int8 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(&window.tenants)
            .bind(window.before)
            .bind(window.limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(job).collect()
    }

    /// Cancels a job that has not finished; returns whether this call
    /// cancelled it, and the job as it is now.
    pub async fn cancel_replay_job(&self, id: i64) -> Result<(bool, Option<ReplayJob>), StoreError> {
        // The runner keeps its lease on a cancelled job: the batch it is
        // publishing is still counted (see `advance_replay_job`).
        let cancelled = sqlx::query(
            "UPDATE replay_jobs SET status = 'cancelled', finished_at = now()
             WHERE id = $1 AND status IN ('pending', 'running')",
        )
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok((cancelled == 1, self.replay_job(id).await?))
    }

    /// Takes the oldest open job no runner holds (its lease lapsed: a runner
    /// died, or stopped and let it go), for `lease`.
    pub async fn claim_replay_job(&self, owner: Uuid, lease: Duration) -> Result<Option<ReplayJob>, StoreError> {
        let sql = format!(
            "UPDATE replay_jobs SET status = 'running', lease_owner = $1,
                    lease_until = now() + make_interval(secs => $2), started_at = coalesce(started_at, now())
             WHERE id = (SELECT id FROM replay_jobs WHERE status IN ('pending', 'running')
                           AND (lease_until IS NULL OR lease_until < now())
                         ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING {JOB}"
        );
        let row = sqlx::query(&sql)
            .bind(owner)
            .bind(lease.as_secs_f64())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(job).transpose()
    }

    /// The next notifications of a job after its cursor, oldest first, in
    /// the form the relay normalizes.
    pub async fn replay_batch(&self, job: &ReplayJob, limit: i64) -> Result<Vec<Claimed>, StoreError> {
        let mut filter = job.filter.clone();
        filter.tenant = Some(hookgate_core::TenantId::from_stored(job.tenant.clone()));
        let window = Window {
            after: Some(job.cursor),
            max_id: Some(job.max_id),
            limit,
            ..Window::default()
        };
        let sql = format!(
            "SELECT n.id, n.tenant, n.source, n.kind, n.delivery_key, n.body, n.received_at, n.traceparent,
                    n.ordering_key, n.utc_offset_minutes
             FROM {} WHERE {} AND n.erased_at IS NULL ORDER BY n.id LIMIT $13",
            crate::ops::with_outbox(filter.status),
            crate::ops::FILTER
        );
        let rows = crate::ops::bind_filter(sqlx::query(&sql), &filter, &window)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        let claimed = |r: &PgRow| -> Result<Claimed, sqlx::Error> {
            Ok(Claimed {
                notification_id: r.try_get("id")?,
                tenant: TenantId::from_stored(r.try_get::<String, _>("tenant")?),
                source: SourceId::from_stored(r.try_get::<String, _>("source")?),
                kind: r.try_get("kind")?,
                delivery_key: r.try_get("delivery_key")?,
                body: r.try_get("body")?,
                received_at: r.try_get("received_at")?,
                traceparent: r.try_get("traceparent")?,
                attempts: 1,
                ordering_key: r.try_get("ordering_key")?,
                utc_offset_minutes: r.try_get("utc_offset_minutes")?,
            })
        };
        Ok(rows.iter().map(claimed).collect::<Result<_, _>>()?)
    }

    /// Records a batch's progress and renews the lease. `false`: the job is
    /// no longer this runner's to run (cancelled, or its lease was taken).
    pub async fn advance_replay_job(
        &self,
        id: i64,
        owner: Uuid,
        lease: Duration,
        progress: ReplayProgress,
        error: Option<&str>,
    ) -> Result<bool, StoreError> {
        let error = error.map(|e| crate::pg_text(e).chars().take(2000).collect::<String>());
        // A job cancelled meanwhile still counts the batch that was out.
        let status: Option<String> = sqlx::query_scalar(
            "UPDATE replay_jobs SET cursor = greatest(cursor, $3), replayed = replayed + $4, events = events + $5,
                    failed = failed + $6, last_error = coalesce($7, last_error),
                    lease_until = now() + make_interval(secs => $8)
             WHERE id = $1 AND lease_owner = $2 AND status IN ('running', 'cancelled')
             RETURNING status",
        )
        .bind(id)
        .bind(owner)
        .bind(progress.cursor)
        .bind(progress.replayed)
        .bind(progress.events)
        .bind(progress.failed)
        .bind(error)
        .bind(lease.as_secs_f64())
        .fetch_optional(self.pool())
        .await?;
        Ok(status.as_deref() == Some("running"))
    }

    /// Ends a job this runner holds: `done` or `failed`.
    pub async fn finish_replay_job(
        &self,
        id: i64,
        owner: Uuid,
        status: &str,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let error = error.map(|e| crate::pg_text(e).chars().take(2000).collect::<String>());
        let mut tx = self.pool().begin().await?;
        // The end of a job is also an incident (a notice when it finished,
        // open when it failed), in the same transaction: recorded once.
        crate::incidents::lock(&mut tx).await?;
        let ended = sqlx::query(
            "UPDATE replay_jobs SET status = $3, finished_at = now(), lease_owner = NULL, lease_until = NULL,
                    last_error = coalesce($4, last_error)
             WHERE id = $1 AND lease_owner = $2 AND status = 'running'
             RETURNING tenant, replayed, events, failed, last_error",
        )
        .bind(id)
        .bind(owner)
        .bind(status)
        .bind(error)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(r) = ended {
            let tenant: String = r.try_get("tenant")?;
            let (replayed, events, failed): (i64, i64, i64) =
                (r.try_get("replayed")?, r.try_get("events")?, r.try_get("failed")?);
            let last_error: Option<String> = r.try_get("last_error")?;
            let ok = status == "done";
            let kind = if ok { Kind::ReplayFinished } else { Kind::ReplayFailed };
            let summary = if ok {
                format!("replay job {id} of {tenant} finished: {replayed} notification(s) published again ({events} message(s)), {failed} failed")
            } else {
                format!(
                    "replay job {id} of {tenant} failed after {replayed} notification(s): {}",
                    last_error.as_deref().unwrap_or("no error recorded")
                )
            };
            let c = Condition {
                key: Key {
                    kind,
                    tenant,
                    source: String::new(),
                    cause: id.to_string(),
                },
                count: replayed,
                samples: Vec::new(),
                summary,
            };
            crate::incidents::raise_in(&mut tx, &c, chrono::Utc::now()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Lets go of a job at shutdown, so that another runner picks it up at
    /// once instead of after the lease.
    pub async fn release_replay_job(&self, id: i64, owner: Uuid) -> Result<(), StoreError> {
        sqlx::query("UPDATE replay_jobs SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2")
            .bind(id)
            .bind(owner)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Subscribes to new replay jobs.
    pub async fn listen_replays(&self) -> Result<crate::ChangeListener, StoreError> {
        self.listen_on(REPLAY_CHANNEL).await
    }
}
