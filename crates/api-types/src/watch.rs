//! Source health and incidents.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One configured source's health.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SourceHealth {
    /// Tenant.
    pub tenant: String,
    /// Source.
    pub source: String,
    /// `ok`, `quiet`, `refused` (requests arrive, every one refused),
    /// `learning` (its baseline needs more history) or `outside_hours`.
    pub state: String,
    /// Quiet by its cadence or baseline.
    pub quiet: bool,
    /// `cadence`, `baseline`, `learning` or `outside_hours`.
    pub judged_by: String,
    /// The rule, in words.
    pub rule: String,
    /// Seconds since the last accepted webhook (since the process start when none is known).
    pub seconds_since_accepted: f64,
    /// Webhooks the baseline expected since the last one (baseline only).
    pub expected_since_accepted: Option<f64>,
    /// The last accepted webhook.
    pub last_accepted_at: Option<DateTime<Utc>>,
    /// The cause that refuses everything, when refused.
    pub refused_by: Option<String>,
    /// Refusals in the current and previous hour, by cause (most first).
    pub refusals: Vec<CauseCount>,
}

/// Requests of one cause.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CauseCount {
    /// The cause (a refusal's reason).
    pub cause: String,
    /// Requests.
    pub count: i64,
}

/// One incident.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Incident {
    /// Id.
    pub id: i64,
    /// `source_quiet`, `rejection_spike`, `parked`, `outbox_age`, `reload_refused`,
    /// `relay_not_publishing`, `dependency_down`, `tls_expiry`, `replay_failed`, or a
    /// notice: `replay_finished`, `key_added`, `key_removed`, `spooled`.
    pub kind: String,
    /// Tenant ('' for the whole gateway).
    pub tenant: String,
    /// Source ('' when not about one).
    pub source: String,
    /// Cause within the kind (a refusal's reason).
    pub cause: String,
    /// `open`, `acknowledged`, `resolved` or `ignored`.
    pub state: String,
    /// Count (refusals, parked rows, seconds).
    pub count: i64,
    /// Sample ids (rejections for a spike, notifications when parked).
    pub samples: Vec<i64>,
    /// One line.
    pub summary: String,
    /// Opened.
    pub opened_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
}

/// One transition.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IncidentTransition {
    /// Id.
    pub id: i64,
    /// The state it moved to.
    pub state: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The admin token that moved it ('' for the evaluator).
    pub actor: String,
    /// When its operator event was confirmed by the broker.
    pub published_at: Option<DateTime<Utc>>,
}

/// An incident with its transitions.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IncidentDetail {
    /// The incident.
    pub incident: Incident,
    /// Its transitions, oldest first.
    pub transitions: Vec<IncidentTransition>,
}
