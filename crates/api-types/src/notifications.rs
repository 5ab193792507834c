//! Notifications: the filter every list, replay and requeue takes, what a list shows, one notification in full, a subject's timeline.

#![allow(unused_imports)]

use crate::*;
use chrono::{DateTime, Utc};
use hookgate_core::{SourceId, TenantId};
use serde::{Deserialize, Serialize};

/// Which notifications an operator means. Every field narrows; none: all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationFilter {
    /// Tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub tenant: Option<TenantId>,
    /// Source id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub source: Option<SourceId>,
    /// Outbox status: `pending`, `published` or `parked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OutboxStatus>,
    /// Delivery key (the provider's delivery or event id, else the body's sha256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_key: Option<String>,
    /// Subject, e.g. `order/553440887574627`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Received at or after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Received before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// Only these notification ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<i64>>,
}

/// One notification and where its outbox row is.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotificationSummary {
    /// Id (commit order).
    pub id: i64,
    /// Tenant.
    pub tenant: String,
    /// Source.
    pub source: String,
    /// Kind.
    pub kind: String,
    /// Delivery key.
    pub delivery_key: String,
    /// First receipt.
    pub received_at: DateTime<Utc>,
    /// Latest receipt (redeliveries).
    pub last_received_at: DateTime<Utc>,
    /// Deliveries so far.
    pub delivery_count: i32,
    /// The signature recipe that matched (none: observe mode).
    pub signature_recipe: Option<String>,
    /// Whether a signature matched.
    pub verified: bool,
    /// Body size in bytes.
    pub body_size: i64,
    /// `pending`, `published` or `parked`.
    pub status: String,
    /// Publish attempts so far (none once published: the outbox row that
    /// counted them is gone).
    pub attempts: Option<i32>,
    /// The last failure.
    pub last_error: Option<String>,
    /// The subject it names (none: it names none).
    pub subject: Option<String>,
    /// Not retried before (none once published).
    pub available_at: Option<DateTime<Utc>>,
    /// When its events were confirmed (the latest of its recorded events).
    pub published_at: Option<DateTime<Utc>>,
    /// The relay holding it, while leased.
    pub lease_owner: Option<uuid::Uuid>,
    /// Until when.
    pub lease_until: Option<DateTime<Utc>>,
    /// When its payload was erased (a tombstone since).
    pub erased_at: Option<DateTime<Utc>>,
}

/// An event a notification produced, as recorded when it was published.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventSummary {
    /// Event id (deterministic: a replay publishes the same id).
    pub event_id: uuid::Uuid,
    /// Notification it came from.
    pub notification_id: i64,
    /// Canonical type.
    pub event_type: String,
    /// Routing key.
    pub routing_key: String,
    /// Business idempotency key.
    pub idempotency_key: String,
    /// Broker confirm time.
    pub published_at: Option<DateTime<Utc>>,
    /// Published marked stale: the state (routing key) its subject had
    /// already reached, in the provider's order (docs/events.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_behind: Option<String>,
}

/// One stored header.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredHeader {
    /// Name, lowercase.
    pub name: String,
    /// Value (`<redacted>` for credential headers).
    pub value: String,
}

/// The raw request of a notification (with the `read_payload` scope).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Payload {
    /// Headers as stored (credential values redacted at receipt).
    #[schema(value_type = Vec<StoredHeader>)]
    pub headers: serde_json::Value,
    /// The body, when it is UTF-8.
    pub body_text: Option<String>,
    /// The body, base64 (standard alphabet), byte-exact.
    pub body_base64: String,
    /// Peer address.
    pub remote_addr: Option<String>,
    /// Trace context of the request.
    pub traceparent: Option<String>,
}

/// One notification in full.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotificationDetail {
    /// Metadata, outbox state (attempts, last error, lease).
    pub notification: NotificationSummary,
    /// The events it produced, with routing keys and publish times.
    pub events: Vec<EventSummary>,
    /// The raw request; absent without the `read_payload` scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
}

/// One notification of a timeline and its events.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    /// The notification.
    pub notification: NotificationSummary,
    /// Its events.
    pub events: Vec<EventSummary>,
    /// Each time a replay job published it again, oldest first.
    #[serde(default)]
    pub replays: Vec<ReplayMark>,
}

/// One notification published again by a replay job.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReplayMark {
    /// The job.
    pub job_id: i64,
    /// The notification.
    pub notification_id: i64,
    /// When its batch was confirmed.
    pub at: DateTime<Utc>,
    /// Messages confirmed for it.
    pub events: i32,
    /// False when it failed in that job.
    pub ok: bool,
    /// Only this queue (else the tenant exchange).
    pub target_queue: Option<String>,
    /// Token that made the job.
    pub created_by: String,
}

/// What happened to a subject.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Timeline {
    /// Tenant.
    pub tenant: String,
    /// Subject.
    pub subject: String,
    /// Every notification of the subject across sources, in commit order.
    pub entries: Vec<TimelineEntry>,
}

/// Where an outbox row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OutboxStatus {
    /// Waiting to be published (possibly leased or waiting for a retry).
    Pending,
    /// Every event confirmed by the broker (the row has left the outbox).
    Published,
    /// Given up on: waits for an operator.
    Parked,
}

impl OutboxStatus {
    /// The status as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Published => "published",
            OutboxStatus::Parked => "parked",
        }
    }

    /// A stored status (`None`: a value this build does not know).
    pub fn from_stored(value: &str) -> Option<OutboxStatus> {
        [OutboxStatus::Pending, OutboxStatus::Published, OutboxStatus::Parked]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

impl std::fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
