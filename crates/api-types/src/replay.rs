//! Replays and requeues: request bodies, plans, jobs.

#![allow(unused_imports)]

use crate::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A replay job.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReplayJob {
    /// Id (named in every message it publishes).
    pub id: i64,
    /// Tenant.
    pub tenant: String,
    /// The notifications it replays.
    pub filter: NotificationFilter,
    /// Only this queue (else the tenant exchange).
    pub target_queue: Option<String>,
    /// Notifications per second at most.
    pub rate_per_sec: i32,
    /// `pending`, `running`, `done`, `cancelled` or `failed`.
    pub status: String,
    /// Notifications the plan counted.
    pub planned: i64,
    /// The highest id of the set (fixed when made).
    pub max_id: i64,
    /// The last id done.
    pub cursor: i64,
    /// Notifications replayed.
    pub replayed: i64,
    /// Messages confirmed by the broker.
    pub events: i64,
    /// Notifications that could not be replayed (normalization or publish failed).
    pub failed: i64,
    /// The last failure.
    pub last_error: Option<String>,
    /// Token that made it.
    pub created_by: String,
    /// Made.
    pub created_at: DateTime<Utc>,
    /// First run.
    pub started_at: Option<DateTime<Utc>>,
    /// Done, cancelled or failed.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Body of `POST /v1/notifications/{id}/replay`.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayOne {
    /// Publish only to this queue (through the default exchange) instead of
    /// the tenant exchange and all its bindings.
    #[serde(default)]
    pub queue: Option<String>,
}

/// Body of `POST /v1/replays`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Which notifications; `tenant` is required.
    pub filter: NotificationFilter,
    /// Only this queue (else the tenant exchange).
    #[serde(default)]
    pub queue: Option<String>,
    /// Notifications per second (default `admin.replay_rate_per_sec`).
    #[serde(default)]
    pub rate_per_sec: Option<i32>,
    /// `true` (the default): answer the plan, change nothing.
    #[serde(default = "crate::yes")]
    pub dry_run: bool,
}

/// What a replay or requeue would touch.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Plan {
    /// Notifications it would touch.
    pub count: i64,
    /// The highest id among them (a job made now covers ids up to this).
    pub max_id: Option<i64>,
    /// The newest of them (at most 10).
    pub sample: Vec<NotificationSummary>,
}

/// Body of `POST /v1/parked/requeue`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequeueRequest {
    /// Which parked notifications (`status` is implied); `ids` for some.
    pub filter: NotificationFilter,
    /// `true` (the default): answer the plan, change nothing.
    #[serde(default = "crate::yes")]
    pub dry_run: bool,
}

/// What a requeue did.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Requeued {
    /// How many rows went back to pending.
    pub requeued: usize,
    /// Their ids.
    pub ids: Vec<i64>,
}

/// The answer of a requeue: its plan (dry run) or what it did.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum RequeueAnswer {
    /// The plan.
    Plan(Plan),
    /// What was requeued.
    Done(Requeued),
}
