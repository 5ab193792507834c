//! What operators read and change through the admin API: notifications by
//! filter with their outbox state and events, a subject's timeline, parked
//! rows and their requeue, rejections and their re-admission, the audit log.
//!
//! These queries are built at run time (one filter clause shared by list,
//! count, replay and requeue) rather than checked at compile time: they are
//! off the webhook path, and one clause cannot drift between its users.

use crate::{OutboxStatus, Store, StoreError};
use chrono::{DateTime, Utc};
pub use hookgate_api_types::{
    AuditEntry, EventSummary, NotificationFilter, NotificationSummary, Registration, RejectionSummary,
};
use hookgate_core::{SourceId, TenantId};
use sqlx::postgres::PgRow;
use sqlx::Row;

/// Where in a filter's result a read is: the caller's tenant limit, the page
/// and the id window.
#[derive(Debug, Clone, Default)]
pub struct Window {
    /// Only these tenants (a token limited to them); `None`: any.
    pub tenants: Option<Vec<String>>,
    /// Ids below this (newest-first paging).
    pub before: Option<i64>,
    /// Ids above this (oldest-first: replay jobs).
    pub after: Option<i64>,
    /// Ids up to this (the set a job fixed when it was made).
    pub max_id: Option<i64>,
    /// Most rows.
    pub limit: i64,
}

/// Notifications with their outbox row, if any: a notification without one
/// is published (rows leave the outbox once published).
pub(crate) const WITH_OUTBOX: &str = "notifications n LEFT JOIN outbox o ON o.notification_id = n.id";

/// [`WITH_OUTBOX`] for a filter: one on a status the outbox holds (pending,
/// parked) starts from the outbox, a few rows through its partial index,
/// instead of every notification (with 10 M stored, `status=parked` took
/// seconds through the left join). The status is one of the enum's own
/// words, never request text.
pub(crate) fn with_outbox(status: Option<OutboxStatus>) -> String {
    match status {
        Some(s @ (OutboxStatus::Pending | OutboxStatus::Parked)) => format!(
            "outbox o JOIN notifications n ON n.id = o.notification_id AND o.status = '{}'",
            s.as_str()
        ),
        _ => WITH_OUTBOX.to_owned(),
    }
}

/// The shared filter clause; `n` is notifications, `o` its outbox row
/// (from [`WITH_OUTBOX`]).
pub(crate) const FILTER: &str = "($1::text[] IS NULL OR n.tenant = ANY($1))
    AND ($2::text IS NULL OR n.tenant = $2)
    AND ($3::text IS NULL OR n.source = $3)
    AND ($4::text IS NULL OR COALESCE(o.status, 'published') = $4)
    AND ($5::text IS NULL OR n.delivery_key = $5)
    AND ($6::text IS NULL OR n.ordering_key = n.tenant || ':' || $6)
    AND ($7::timestamptz IS NULL OR n.received_at >= $7)
    AND ($8::timestamptz IS NULL OR n.received_at < $8)
    AND ($9::int8[] IS NULL OR n.id = ANY($9))
    AND ($10::int8 IS NULL OR n.id < $10)
    AND ($11::int8 IS NULL OR n.id > $11)
    AND ($12::int8 IS NULL OR n.id <= $12)";

/// Columns of a [`NotificationSummary`], read from [`summary_from`].
const SUMMARY: &str = "n.id, n.tenant, n.source, n.kind, n.delivery_key, n.received_at,
    COALESCE(d.last_received_at, n.received_at) AS last_received_at, COALESCE(d.delivery_count, 1) AS delivery_count,
    n.signature_recipe, n.verified, octet_length(n.body)::int8 AS body_size,
    COALESCE(o.status, 'published') AS status, o.attempts, o.last_error, n.ordering_key, o.available_at,
    CASE WHEN o.notification_id IS NULL
         THEN (SELECT max(e.published_at) FROM events e WHERE e.notification_id = n.id) END AS published_at,
    o.lease_owner, o.lease_until, n.erased_at";

/// [`with_outbox`] and the delivery counts.
fn summary_from(status: Option<OutboxStatus>) -> String {
    format!(
        "{} LEFT JOIN deliveries d ON d.tenant = n.tenant AND d.source = n.source AND d.delivery_key = n.delivery_key
            AND d.notification_id = n.id",
        with_outbox(status)
    )
}

pub(crate) fn bind_filter<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    f: &'q NotificationFilter,
    w: &'q Window,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    q.bind(&w.tenants)
        .bind(f.tenant.as_ref().map(TenantId::as_str))
        .bind(f.source.as_ref().map(SourceId::as_str))
        .bind(f.status.map(OutboxStatus::as_str))
        .bind(&f.delivery_key)
        .bind(&f.subject)
        .bind(f.since)
        .bind(f.until)
        .bind(&f.ids)
        .bind(w.before)
        .bind(w.after)
        .bind(w.max_id)
}

fn summary(r: &PgRow) -> Result<NotificationSummary, sqlx::Error> {
    let tenant: String = r.try_get("tenant")?;
    let ordering_key: Option<String> = r.try_get("ordering_key")?;
    let prefix = format!("{tenant}:");
    Ok(NotificationSummary {
        id: r.try_get("id")?,
        source: r.try_get("source")?,
        kind: r.try_get("kind")?,
        delivery_key: r.try_get("delivery_key")?,
        received_at: r.try_get("received_at")?,
        last_received_at: r.try_get("last_received_at")?,
        delivery_count: r.try_get("delivery_count")?,
        signature_recipe: r.try_get("signature_recipe")?,
        verified: r.try_get("verified")?,
        body_size: r.try_get("body_size")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        subject: ordering_key.map(|k| k.strip_prefix(&prefix).map(str::to_owned).unwrap_or(k)),
        available_at: r.try_get("available_at")?,
        published_at: r.try_get("published_at")?,
        lease_owner: r.try_get("lease_owner")?,
        lease_until: r.try_get("lease_until")?,
        erased_at: r.try_get("erased_at")?,
        tenant,
    })
}

/// Raw request of a notification: headers (redacted as stored) and body.
#[derive(Debug, Clone)]
pub struct NotificationPayload {
    /// Headers as stored.
    pub headers: serde_json::Value,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Peer address.
    pub remote_addr: Option<String>,
    /// Trace context of the request.
    pub traceparent: Option<String>,
    /// The offset its zoneless times are read at, stored at ingest.
    pub utc_offset_minutes: Option<i32>,
}

/// Which rejections.
#[derive(Debug, Clone, Default)]
pub struct RejectionFilter {
    /// Tenant.
    pub tenant: Option<String>,
    /// Source.
    pub source: Option<String>,
    /// Reason.
    pub reason: Option<String>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
}

const REJECTION: &str = "id, tenant, source, reason, detail, http_status, remote_addr, body_size,
    octet_length(body)::int8 AS body_kept, request_url, received_at, readmitted_as, readmitted_at";

fn rejection(r: &PgRow) -> Result<RejectionSummary, sqlx::Error> {
    Ok(RejectionSummary {
        id: r.try_get("id")?,
        tenant: r.try_get("tenant")?,
        source: r.try_get("source")?,
        reason: r.try_get("reason")?,
        detail: r.try_get("detail")?,
        http_status: r.try_get("http_status")?,
        remote_addr: r.try_get("remote_addr")?,
        body_size: r.try_get("body_size")?,
        body_kept: r.try_get("body_kept")?,
        request_url: r.try_get("request_url")?,
        received_at: r.try_get("received_at")?,
        readmitted_as: r.try_get("readmitted_as")?,
        readmitted_at: r.try_get("readmitted_at")?,
    })
}

impl Store {
    /// Notifications matching `filter` within `window`, newest first.
    pub async fn notifications(
        &self,
        filter: &NotificationFilter,
        window: &Window,
    ) -> Result<Vec<NotificationSummary>, StoreError> {
        let from = summary_from(filter.status);
        let sql = format!("SELECT {SUMMARY} FROM {from} WHERE {FILTER} ORDER BY n.id DESC LIMIT $13");
        let rows = bind_filter(sqlx::query(&sql), filter, window)
            .bind(window.limit)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(summary).collect::<Result<_, _>>()?)
    }

    /// How many notifications match, and the highest id among them.
    pub async fn count_notifications_matching(
        &self,
        filter: &NotificationFilter,
        window: &Window,
    ) -> Result<(i64, Option<i64>), StoreError> {
        let from = with_outbox(filter.status);
        let sql = format!(
            "SELECT count(*)::int8 AS n, max(n.id) AS max_id
             FROM {from} WHERE {FILTER}"
        );
        let row = bind_filter(sqlx::query(&sql), filter, window)
            .fetch_one(self.pool())
            .await?;
        Ok((row.try_get("n")?, row.try_get("max_id")?))
    }

    /// One notification's summary.
    pub async fn notification_summary(&self, id: i64) -> Result<Option<NotificationSummary>, StoreError> {
        let filter = NotificationFilter {
            ids: Some(vec![id]),
            ..NotificationFilter::default()
        };
        let window = Window {
            limit: 1,
            ..Window::default()
        };
        Ok(self.notifications(&filter, &window).await?.into_iter().next())
    }

    /// One notification's raw request.
    pub async fn notification_payload(&self, id: i64) -> Result<Option<NotificationPayload>, StoreError> {
        let row = sqlx::query(
            "SELECT headers, body, remote_addr, traceparent, utc_offset_minutes FROM notifications WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok::<_, sqlx::Error>(NotificationPayload {
                headers: r.try_get("headers")?,
                body: r.try_get("body")?,
                remote_addr: r.try_get("remote_addr")?,
                traceparent: r.try_get("traceparent")?,
                utc_offset_minutes: r.try_get("utc_offset_minutes")?,
            })
        })
        .transpose()
        .map_err(StoreError::from)
    }

    /// The events recorded for these notifications, in publish order.
    pub async fn events_of(&self, ids: &[i64]) -> Result<Vec<EventSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT event_id, notification_id, type, routing_key, idempotency_key, published_at, stale_behind
             FROM events WHERE notification_id = ANY($1) ORDER BY notification_id, published_at NULLS LAST, event_id",
        )
        .bind(ids)
        .fetch_all(self.pool())
        .await?;
        let event = |r: &PgRow| -> Result<EventSummary, sqlx::Error> {
            Ok(EventSummary {
                event_id: r.try_get("event_id")?,
                notification_id: r.try_get("notification_id")?,
                event_type: r.try_get("type")?,
                routing_key: r.try_get("routing_key")?,
                idempotency_key: r.try_get("idempotency_key")?,
                published_at: r.try_get("published_at")?,
                stale_behind: r.try_get("stale_behind")?,
            })
        };
        Ok(rows.iter().map(event).collect::<Result<_, _>>()?)
    }

    /// Every notification of a tenant's subject, in commit order (ids are
    /// commit order within a subject: the ordering guarantee relies on it).
    pub async fn subject_notifications(
        &self,
        tenant: &str,
        subject: &str,
        limit: i64,
    ) -> Result<Vec<NotificationSummary>, StoreError> {
        let from = summary_from(None);
        let sql = format!("SELECT {SUMMARY} FROM {from} WHERE n.ordering_key = $1 ORDER BY n.id LIMIT $2");
        let rows = sqlx::query(&sql)
            .bind(format!("{tenant}:{subject}"))
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(summary).collect::<Result<_, _>>()?)
    }

    /// Puts the parked rows matching `filter` back in the queue: pending,
    /// due now, attempts from zero. The relay normalizes them again with the
    /// code it runs. Returns their ids.
    pub async fn requeue_parked(&self, filter: &NotificationFilter, window: &Window) -> Result<Vec<i64>, StoreError> {
        let mut parked = filter.clone();
        parked.status = Some(OutboxStatus::Parked);
        let from = with_outbox(parked.status);
        let sql = format!(
            "WITH chosen AS (
                SELECT n.id FROM {from} WHERE {FILTER} ORDER BY n.id LIMIT $13 FOR UPDATE OF o
             )
             UPDATE outbox o SET status = 'pending', attempts = 0, available_at = now(), lease_owner = NULL,
                    lease_until = NULL, last_error = NULL
             FROM chosen WHERE o.notification_id = chosen.id AND o.status = 'parked'
             RETURNING o.notification_id"
        );
        let mut tx = self.pool().begin().await?;
        let rows = bind_filter(sqlx::query(&sql), &parked, window)
            .bind(window.limit)
            .fetch_all(&mut *tx)
            .await?;
        let ids: Vec<i64> = rows
            .iter()
            .map(|r| r.try_get("notification_id"))
            .collect::<Result<_, _>>()?;
        if !ids.is_empty() {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(crate::outbox::CHANNEL)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Rejections matching `filter`, newest first.
    pub async fn rejections_matching(
        &self,
        filter: &RejectionFilter,
        window: &Window,
    ) -> Result<Vec<RejectionSummary>, StoreError> {
        let sql = format!(
            "SELECT {REJECTION} FROM rejections
             WHERE ($1::text[] IS NULL OR tenant = ANY($1))
               AND ($2::text IS NULL OR tenant = $2)
               AND ($3::text IS NULL OR source = $3)
               AND ($4::text IS NULL OR reason = $4)
               AND ($5::timestamptz IS NULL OR received_at >= $5)
               AND ($6::timestamptz IS NULL OR received_at < $6)
               AND ($7::int8 IS NULL OR id < $7)
             ORDER BY id DESC LIMIT $8"
        );
        let rows = sqlx::query(&sql)
            .bind(&window.tenants)
            .bind(&filter.tenant)
            .bind(&filter.source)
            .bind(&filter.reason)
            .bind(filter.since)
            .bind(filter.until)
            .bind(window.before)
            .bind(window.limit)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(rejection).collect::<Result<_, _>>()?)
    }

    /// One rejection with its stored headers and body.
    pub async fn rejection(
        &self,
        id: i64,
    ) -> Result<Option<(RejectionSummary, serde_json::Value, Vec<u8>)>, StoreError> {
        let sql = format!("SELECT {REJECTION}, headers, body FROM rejections WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(self.pool()).await?;
        row.map(|r| Ok((rejection(&r)?, r.try_get("headers")?, r.try_get("body")?)))
            .transpose()
            .map_err(|e: sqlx::Error| StoreError::from(e))
    }

    /// Notes that a rejection was re-admitted as a notification.
    pub async fn mark_readmitted(&self, rejection: i64, notification: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE rejections SET readmitted_as = $2, readmitted_at = now() WHERE id = $1")
            .bind(rejection)
            .bind(notification)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Records a mutating admin call.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_audit(
        &self,
        token: &str,
        action: &str,
        tenant: Option<&str>,
        target: Option<&str>,
        request: &serde_json::Value,
        status: u16,
        result: &serde_json::Value,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO admin_audit (token, action, tenant, target, request, status, result)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token)
        .bind(action)
        .bind(tenant)
        .bind(target)
        .bind(request)
        .bind(i32::from(status))
        .bind(result)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The audit log, newest first.
    pub async fn audit(&self, window: &Window) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, token, action, tenant, target, request, status, result FROM admin_audit
             WHERE ($1::text[] IS NULL OR tenant = ANY($1)) AND ($2::int8 IS NULL OR id < $2)
             ORDER BY id DESC LIMIT $3",
        )
        .bind(&window.tenants)
        .bind(window.before)
        .bind(window.limit)
        .fetch_all(self.pool())
        .await?;
        let entry = |r: &PgRow| -> Result<AuditEntry, sqlx::Error> {
            Ok(AuditEntry {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                token: r.try_get("token")?,
                action: r.try_get("action")?,
                tenant: r.try_get("tenant")?,
                target: r.try_get("target")?,
                request: r.try_get("request")?,
                status: r.try_get("status")?,
                result: r.try_get("result")?,
            })
        };
        Ok(rows.iter().map(entry).collect::<Result<_, _>>()?)
    }

    /// What `hookgate register` recorded for a tenant's sources:
    /// (source, provider, event, is_test, status, registered_at).
    pub async fn registrations(&self, tenant: &str) -> Result<Vec<Registration>, StoreError> {
        let rows = sqlx::query(
            "SELECT source, provider, event, is_test, status, url, updated_at FROM provider_webhooks
             WHERE tenant = $1 ORDER BY source, provider, event, is_test",
        )
        .bind(tenant)
        .fetch_all(self.pool())
        .await?;
        let reg = |r: &PgRow| -> Result<Registration, sqlx::Error> {
            Ok(Registration {
                source: r.try_get("source")?,
                provider: r.try_get("provider")?,
                event: r.try_get("event")?,
                is_test: r.try_get("is_test")?,
                status: r.try_get("status")?,
                url: r.try_get("url")?,
                updated_at: r.try_get("updated_at")?,
            })
        };
        Ok(rows.iter().map(reg).collect::<Result<_, _>>()?)
    }
}
