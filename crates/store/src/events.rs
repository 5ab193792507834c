//! Published events: the audit trail, and the dedupe fallback when Redis is down.

use crate::{Store, StoreError};
use hookgate_core::TenantId;
use sqlx::{Postgres, Transaction};
use std::time::Duration;
use uuid::Uuid;

/// An event handed to RabbitMQ.
#[derive(Debug, Clone)]
pub struct EventRecord {
    /// Event id.
    pub event_id: Uuid,
    /// Tenant.
    pub tenant: TenantId,
    /// Business idempotency key.
    pub idempotency_key: String,
    /// Notification it came from.
    pub notification_id: i64,
    /// Canonical type.
    pub event_type: String,
    /// Routing key it was published with.
    pub routing_key: String,
    /// Published marked stale: the state its subject had already reached.
    pub stale_behind: Option<String>,
}

/// Outcome of reserving an idempotency key in PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// First time this key is seen: publish.
    New,
    /// Reserved earlier by this same event (a retry): publish again.
    Ours,
    /// Another event already holds the key: a duplicate, skip it.
    Duplicate {
        /// The event holding the key.
        holder: Uuid,
    },
}

impl Store {
    /// Reserves the event's idempotency key for `window` (the fallback of
    /// Redis dedupe, with the same window): a key another event holds is a
    /// duplicate only within that event's window; once it has passed, this
    /// event takes the key over with a window of its own.
    pub async fn reserve_event(&self, e: &EventRecord, window: Duration) -> Result<Reservation, StoreError> {
        let inserted = sqlx::query_scalar!(
            r#"INSERT INTO events (event_id, tenant, idempotency_key, notification_id, type, routing_key)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT DO NOTHING
               RETURNING event_id"#,
            e.event_id,
            e.tenant.as_str(),
            e.idempotency_key,
            e.notification_id,
            e.event_type,
            e.routing_key
        )
        .fetch_optional(self.pool())
        .await?;
        if inserted.is_some() {
            return Ok(Reservation::New);
        }
        let window_secs = window.as_secs_f64();
        let holder = sqlx::query!(
            r#"WITH taken AS (
                   UPDATE events SET window_event = $3, window_at = now()
                   WHERE tenant = $1 AND idempotency_key = $2
                     AND coalesce(window_event, event_id) <> $3
                     AND coalesce(window_at, created_at) <= now() - make_interval(secs => $4)
                   RETURNING event_id)
               SELECT coalesce(e.window_event, e.event_id) AS "holder!", EXISTS (SELECT 1 FROM taken) AS "taken!"
               FROM events e WHERE e.tenant = $1 AND e.idempotency_key = $2"#,
            e.tenant.as_str(),
            e.idempotency_key,
            e.event_id,
            window_secs
        )
        .fetch_optional(self.pool())
        .await?;
        Ok(match holder {
            Some(h) if h.taken => Reservation::New,
            Some(h) if h.holder != e.event_id => Reservation::Duplicate { holder: h.holder },
            // Same id, or the conflict was on event_id itself: our own earlier attempt.
            _ => Reservation::Ours,
        })
    }

    /// Number of published events of a notification (tests, support).
    #[cfg(feature = "test-support")]
    pub async fn count_published_events(&self, notification_id: i64) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM events WHERE notification_id = $1 AND published_at IS NOT NULL"#,
            notification_id
        )
        .fetch_one(self.pool())
        .await?)
    }
}

pub(crate) async fn record_published(
    tx: &mut Transaction<'_, Postgres>,
    events: &[EventRecord],
) -> Result<(), StoreError> {
    let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
    let tenants: Vec<String> = events.iter().map(|e| e.tenant.as_str().to_owned()).collect();
    let keys: Vec<String> = events.iter().map(|e| e.idempotency_key.clone()).collect();
    let notifications: Vec<i64> = events.iter().map(|e| e.notification_id).collect();
    let types: Vec<String> = events.iter().map(|e| e.event_type.clone()).collect();
    let routing: Vec<String> = events.iter().map(|e| e.routing_key.clone()).collect();
    let stale: Vec<Option<String>> = events.iter().map(|e| e.stale_behind.clone()).collect();
    // A key another event already holds (e.g. Redis said "new" after its
    // window expired) keeps its first holder: DO NOTHING on either constraint.
    sqlx::query!(
        r#"INSERT INTO events (event_id, tenant, idempotency_key, notification_id, type, routing_key, stale_behind,
                               published_at)
           SELECT *, now() FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[],
                                       $7::text[])
           ON CONFLICT DO NOTHING"#,
        &ids,
        &tenants,
        &keys,
        &notifications,
        &types,
        &routing,
        &stale as &[Option<String>]
    )
    .execute(&mut **tx)
    .await?;
    // Reserved earlier (the PostgreSQL dedupe fallback): published now, as
    // it went out.
    sqlx::query!(
        r#"UPDATE events e SET published_at = now(), routing_key = u.routing_key, stale_behind = u.stale_behind
           FROM UNNEST($1::uuid[], $2::text[], $3::text[]) AS u(event_id, routing_key, stale_behind)
           WHERE e.event_id = u.event_id AND e.published_at IS NULL"#,
        &ids,
        &routing,
        &stale as &[Option<String>]
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}
