//! The console's reads that must stay fast with millions of stored
//! notifications: traffic per source and hour (a rollup each ingress
//! process adds its tally to), the last accepted and refused request per
//! source, the outbox per tenant (pending and parked rows only), and the
//! notifications each replay job published again.

use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
pub use hookgate_api_types::ReplayMark;
use sqlx::postgres::PgRow;
use sqlx::Row;
use std::collections::HashMap;

/// Counts to add to one source's hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficDelta {
    /// Tenant.
    pub tenant: String,
    /// Source.
    pub source: String,
    /// Start of the hour.
    pub hour: DateTime<Utc>,
    /// `accepted`, `duplicate` or `rejected`.
    pub outcome: String,
    /// The refusal's reason ('' otherwise).
    pub reason: String,
    /// Requests.
    pub count: i64,
    /// The last of them.
    pub last_at: DateTime<Utc>,
}

/// One row of the rollup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficRow {
    /// Tenant.
    pub tenant: String,
    /// Source.
    pub source: String,
    /// Start of the hour.
    pub hour: DateTime<Utc>,
    /// `accepted`, `duplicate` or `rejected`.
    pub outcome: String,
    /// The refusal's reason ('' otherwise).
    pub reason: String,
    /// Requests.
    pub count: i64,
}

/// The last accepted and refused request of a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceActivity {
    /// Tenant.
    pub tenant: String,
    /// Source.
    pub source: String,
    /// Last accepted (new or duplicate).
    pub last_accepted_at: Option<DateTime<Utc>>,
    /// Last refused.
    pub last_rejected_at: Option<DateTime<Utc>>,
}

/// The outbox of one tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantOutbox {
    /// Tenant.
    pub tenant: String,
    /// Rows waiting to be published.
    pub pending: i64,
    /// Rows given up on.
    pub parked: i64,
    /// Age of the oldest pending row, seconds.
    pub oldest_pending_secs: f64,
}

/// The latest of a kind of request, if any.
type Latest = Option<DateTime<Utc>>;

impl Store {
    /// Adds one flush of tallied traffic (every key at most once) to the
    /// hourly rollup and the per-source activity, in one transaction.
    pub async fn add_traffic(&self, deltas: &[TrafficDelta]) -> Result<(), StoreError> {
        if deltas.is_empty() {
            return Ok(());
        }
        let col = |f: fn(&TrafficDelta) -> String| deltas.iter().map(f).collect::<Vec<_>>();
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO traffic_hourly (tenant, source, hour, outcome, reason, count, last_at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::bigint[],
                                  $7::timestamptz[])
             ON CONFLICT (tenant, source, hour, outcome, reason) DO UPDATE
                SET count = traffic_hourly.count + excluded.count,
                    last_at = greatest(traffic_hourly.last_at, excluded.last_at)",
        )
        .bind(col(|d| crate::pg_text(&d.tenant).into_owned()))
        .bind(col(|d| crate::pg_text(&d.source).into_owned()))
        .bind(deltas.iter().map(|d| d.hour).collect::<Vec<_>>())
        .bind(col(|d| d.outcome.clone()))
        .bind(col(|d| crate::pg_text(&d.reason).into_owned()))
        .bind(deltas.iter().map(|d| d.count).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| d.last_at).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        // One row per source: its latest accepted and refused.
        let mut latest: HashMap<(&str, &str), (Latest, Latest)> = HashMap::new();
        for d in deltas {
            let e = latest.entry((&d.tenant, &d.source)).or_default();
            let slot = if d.outcome == "rejected" { &mut e.1 } else { &mut e.0 };
            *slot = (*slot).max(Some(d.last_at));
        }
        let (mut tenants, mut sources, mut accepted, mut rejected) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((t, s), (a, r)) in latest {
            tenants.push(crate::pg_text(t).into_owned());
            sources.push(crate::pg_text(s).into_owned());
            accepted.push(a);
            rejected.push(r);
        }
        sqlx::query(
            "INSERT INTO source_activity (tenant, source, last_accepted_at, last_rejected_at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[])
             ON CONFLICT (tenant, source) DO UPDATE
                SET last_accepted_at = greatest(source_activity.last_accepted_at, excluded.last_accepted_at),
                    last_rejected_at = greatest(source_activity.last_rejected_at, excluded.last_rejected_at)",
        )
        .bind(tenants)
        .bind(sources)
        .bind(accepted)
        .bind(rejected)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The rollup's rows since `since`, of these tenants (`None`: all).
    pub async fn traffic_since(
        &self,
        since: DateTime<Utc>,
        tenants: Option<&[String]>,
    ) -> Result<Vec<TrafficRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT tenant, source, hour, outcome, reason, count FROM traffic_hourly
             WHERE hour >= $1 AND ($2::text[] IS NULL OR tenant = ANY($2))
             ORDER BY tenant, source, hour",
        )
        .bind(since)
        .bind(tenants)
        .fetch_all(self.pool())
        .await?;
        let row = |r: &PgRow| -> Result<TrafficRow, sqlx::Error> {
            Ok(TrafficRow {
                tenant: r.try_get("tenant")?,
                source: r.try_get("source")?,
                hour: r.try_get("hour")?,
                outcome: r.try_get("outcome")?,
                reason: r.try_get("reason")?,
                count: r.try_get("count")?,
            })
        };
        Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
    }

    /// Forgets rollup hours before `before` (the rollup keeps a few weeks).
    pub async fn prune_traffic(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM traffic_hourly WHERE hour < $1")
            .bind(before)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// The last accepted and refused request per source.
    pub async fn source_activity(&self, tenants: Option<&[String]>) -> Result<Vec<SourceActivity>, StoreError> {
        let rows = sqlx::query(
            "SELECT tenant, source, last_accepted_at, last_rejected_at FROM source_activity
             WHERE $1::text[] IS NULL OR tenant = ANY($1)",
        )
        .bind(tenants)
        .fetch_all(self.pool())
        .await?;
        let row = |r: &PgRow| -> Result<SourceActivity, sqlx::Error> {
            Ok(SourceActivity {
                tenant: r.try_get("tenant")?,
                source: r.try_get("source")?,
                last_accepted_at: r.try_get("last_accepted_at")?,
                last_rejected_at: r.try_get("last_rejected_at")?,
            })
        };
        Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
    }

    /// Pending and parked rows per tenant (the outbox holds only those).
    pub async fn outbox_by_tenant(&self, tenants: Option<&[String]>) -> Result<Vec<TenantOutbox>, StoreError> {
        let rows = sqlx::query(
            "SELECT tenant, count(*) FILTER (WHERE status = 'pending') AS pending,
                    count(*) FILTER (WHERE status = 'parked') AS parked,
                    COALESCE(EXTRACT(EPOCH FROM now() - min(created_at) FILTER (WHERE status = 'pending'))::float8, 0)
                      AS oldest
             FROM outbox WHERE status IN ('pending', 'parked') AND ($1::text[] IS NULL OR tenant = ANY($1))
             GROUP BY tenant",
        )
        .bind(tenants)
        .fetch_all(self.pool())
        .await?;
        let row = |r: &PgRow| -> Result<TenantOutbox, sqlx::Error> {
            Ok(TenantOutbox {
                tenant: r.try_get("tenant")?,
                pending: r.try_get("pending")?,
                parked: r.try_get("parked")?,
                oldest_pending_secs: r.try_get("oldest")?,
            })
        };
        Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
    }

    /// Records which notifications a replay batch published again:
    /// `(notification id, messages confirmed, ok)`.
    pub async fn record_replay_items(&self, job: i64, items: &[(i64, i32, bool)]) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO replay_items (notification_id, job_id, events, ok)
             SELECT n, $1, e, o FROM unnest($2::bigint[], $3::int[], $4::bool[]) AS t(n, e, o)
             ON CONFLICT (notification_id, job_id) DO UPDATE
                SET events = replay_items.events + excluded.events, ok = excluded.ok, at = now()",
        )
        .bind(job)
        .bind(items.iter().map(|i| i.0).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.1).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.2).collect::<Vec<_>>())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Every replay of these notifications, oldest first.
    pub async fn replays_of(&self, ids: &[i64]) -> Result<Vec<ReplayMark>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.job_id, i.notification_id, i.at, i.events, i.ok, j.target_queue, j.created_by
             FROM replay_items i JOIN replay_jobs j ON j.id = i.job_id
             WHERE i.notification_id = ANY($1) ORDER BY i.at, i.job_id",
        )
        .bind(ids)
        .fetch_all(self.pool())
        .await?;
        let row = |r: &PgRow| -> Result<ReplayMark, sqlx::Error> {
            Ok(ReplayMark {
                job_id: r.try_get("job_id")?,
                notification_id: r.try_get("notification_id")?,
                at: r.try_get("at")?,
                events: r.try_get("events")?,
                ok: r.try_get("ok")?,
                target_queue: r.try_get("target_queue")?,
                created_by: r.try_get("created_by")?,
            })
        };
        Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
    }
}
