//! Raw notifications and their outbox rows.

use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use hookgate_core::{RawNotification, SourceId, TenantId};
use hookgate_providers::Admitted;

/// What storing a verified notification did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// New delivery: notification and outbox row committed.
    Inserted {
        /// Notification id.
        id: i64,
    },
    /// Same delivery key seen before: its delivery count was bumped; no new outbox row.
    Duplicate {
        /// Id of the existing notification.
        id: i64,
        /// Deliveries so far, including this one.
        delivery_count: i32,
    },
}

/// A stored notification, as read back (support, tests).
#[derive(Debug, Clone)]
pub struct StoredNotification {
    /// Id.
    pub id: i64,
    /// Tenant.
    pub tenant: TenantId,
    /// Source.
    pub source: SourceId,
    /// Kind, as stored (a build may not know every stored kind).
    pub kind: String,
    /// Delivery key.
    pub delivery_key: String,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Headers as stored.
    pub headers: serde_json::Value,
    /// Peer address.
    pub remote_addr: Option<String>,
    /// First receipt.
    pub received_at: DateTime<Utc>,
    /// Number of deliveries.
    pub delivery_count: i32,
    /// Matched recipe.
    pub signature_recipe: Option<String>,
    /// Whether a signature matched.
    pub verified: bool,
    /// Trace context.
    pub traceparent: Option<String>,
}

impl Store {
    /// Stores several verified notifications (distinct delivery keys), each
    /// with its delivery count, in ONE statement: notifications and their
    /// outbox rows commit together, ids in the given order. Returns one
    /// outcome per input, in order.
    pub async fn insert_batch(
        &self,
        batch: &[(&Admitted<RawNotification>, i32)],
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        let len = batch.len();
        let (mut tenants, mut sources, mut kinds, mut keys) = (
            Vec::with_capacity(len),
            Vec::with_capacity(len),
            Vec::with_capacity(len),
            Vec::with_capacity(len),
        );
        let (mut bodies, mut headers, mut remotes, mut times) = (
            Vec::with_capacity(len),
            Vec::with_capacity(len),
            Vec::with_capacity(len),
            Vec::with_capacity(len),
        );
        let (mut recipes, mut verified, mut traces, mut ordering, mut counts) = (
            Vec::with_capacity(len),
            Vec::with_capacity(len),
            Vec::with_capacity(len),
            Vec::with_capacity(len),
            Vec::with_capacity(len),
        );
        let mut offsets: Vec<Option<i32>> = Vec::with_capacity(len);
        let checks: Vec<_> = batch.iter().map(|(n, _)| n.check()).collect();
        for ((n, count), check) in batch.iter().zip(&checks) {
            let raw = n.value();
            tenants.push(raw.tenant.as_str());
            sources.push(raw.source.as_str());
            kinds.push(raw.kind.as_str());
            keys.push(raw.delivery_key.as_str());
            bodies.push(&raw.body[..]);
            // Serialized straight into the statement (no JSON value between).
            headers.push(sqlx::types::Json(&raw.headers[..]));
            remotes.push(raw.remote_addr.as_deref());
            times.push(raw.received_at);
            recipes.push(check.recipe());
            verified.push(check.is_verified());
            traces.push(raw.traceparent.as_deref());
            ordering.push(raw.ordering_key.as_deref());
            offsets.push(raw.utc_offset_minutes);
            counts.push(*count);
        }
        // One statement = one transaction; the outbox trigger NOTIFYs once per batch.
        // The delivery key is claimed first (a redelivery only bumps its
        // count); a new key draws the notification id, and only new keys
        // store a notification and an outbox row.
        let rows = sqlx::query!(
            r#"
            WITH input AS (
                SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::jsonb[],
                                     $7::text[], $8::timestamptz[], $9::text[], $10::bool[], $11::text[],
                                     $12::text[], $13::int4[], $14::int4[])
                    WITH ORDINALITY AS t(tenant, source, kind, delivery_key, body, headers, remote_addr, received_at,
                                         signature_recipe, verified, traceparent, ordering_key, copies,
                                         utc_offset_minutes, ord)
            ), d AS (
                INSERT INTO deliveries (tenant, source, delivery_key, delivery_count, last_received_at)
                SELECT tenant, source, delivery_key, copies, received_at FROM input ORDER BY ord
                ON CONFLICT (tenant, source, delivery_key) DO UPDATE
                    SET delivery_count = deliveries.delivery_count + EXCLUDED.delivery_count,
                        last_received_at = EXCLUDED.last_received_at
                RETURNING notification_id, tenant, source, delivery_key, delivery_count, (xmax = 0) AS inserted
            ), fresh AS (
                SELECT d.notification_id, i.* FROM d
                JOIN input i ON i.tenant = d.tenant AND i.source = d.source AND i.delivery_key = d.delivery_key
                WHERE d.inserted
            ), n AS (
                INSERT INTO notifications
                    (id, tenant, source, kind, delivery_key, body, headers, remote_addr, received_at,
                     signature_recipe, verified, traceparent, ordering_key, utc_offset_minutes)
                SELECT notification_id, tenant, source, kind, delivery_key, body, headers, remote_addr, received_at,
                       signature_recipe, verified, traceparent, ordering_key, utc_offset_minutes
                FROM fresh ORDER BY notification_id
            ), o AS (
                INSERT INTO outbox (notification_id, tenant, ordering_key)
                SELECT notification_id, tenant, ordering_key FROM fresh ORDER BY notification_id
            )
            SELECT i.ord AS "ord!", d.notification_id AS "id!", d.delivery_count AS "delivery_count!",
                   d.inserted AS "inserted!"
            FROM d JOIN input i ON i.tenant = d.tenant AND i.source = d.source AND i.delivery_key = d.delivery_key
            "#,
            &tenants as &[&str],
            &sources as &[&str],
            &kinds as &[&str],
            &keys as &[&str],
            &bodies as &[&[u8]],
            &headers as &[sqlx::types::Json<&[hookgate_core::Header]>],
            &remotes as &[Option<&str>],
            &times,
            &recipes as &[Option<&str>],
            &verified,
            &traces as &[Option<&str>],
            &ordering as &[Option<&str>],
            &counts,
            &offsets as &[Option<i32>],
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = vec![InsertOutcome::Inserted { id: 0 }; len];
        for r in rows {
            let slot = usize::try_from(r.ord - 1).unwrap_or(usize::MAX);
            if let Some(o) = out.get_mut(slot) {
                *o = if r.inserted {
                    InsertOutcome::Inserted { id: r.id }
                } else {
                    InsertOutcome::Duplicate {
                        id: r.id,
                        delivery_count: r.delivery_count,
                    }
                };
            }
        }
        Ok(out)
    }

    /// Reads a notification by its delivery key.
    #[cfg(feature = "test-support")]
    pub async fn notification_by_key(
        &self,
        tenant: &TenantId,
        source: &SourceId,
        delivery_key: &str,
    ) -> Result<Option<StoredNotification>, StoreError> {
        let row = sqlx::query!(
            r#"SELECT n.id, n.tenant, n.source, n.kind, n.delivery_key, n.body, n.headers, n.remote_addr,
                      n.received_at, d.delivery_count, n.signature_recipe, n.verified, n.traceparent
               FROM deliveries d JOIN notifications n ON n.id = d.notification_id
               WHERE d.tenant = $1 AND d.source = $2 AND d.delivery_key = $3"#,
            tenant.as_str(),
            source.as_str(),
            delivery_key
        )
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|n| StoredNotification {
            id: n.id,
            tenant: TenantId::from_stored(n.tenant),
            source: SourceId::from_stored(n.source),
            kind: n.kind,
            delivery_key: n.delivery_key,
            body: n.body,
            headers: n.headers,
            remote_addr: n.remote_addr,
            received_at: n.received_at,
            delivery_count: n.delivery_count,
            signature_recipe: n.signature_recipe,
            verified: n.verified,
            traceparent: n.traceparent,
        }))
    }

    /// Number of notifications of a tenant.
    #[cfg(feature = "test-support")]
    pub async fn count_notifications(&self, tenant: &TenantId) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM notifications WHERE tenant = $1"#,
            tenant.as_str()
        )
        .fetch_one(self.pool())
        .await?)
    }
}
