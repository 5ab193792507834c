//! Retention, partitions and erasure.

#![allow(unused_imports)]

use crate::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One partition of `notifications`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Partition {
    /// Table name.
    pub name: String,
    /// First id it holds.
    pub first_id: i64,
    /// First id it does not hold.
    pub end_id: i64,
    /// When ids started to be drawn in it.
    pub opened_at: DateTime<Utc>,
    /// Ids are still drawn in it.
    pub open: bool,
    /// Rows, as estimated by the planner's statistics.
    pub rows_estimate: i64,
    /// Receipt time of its newest row (none: empty).
    pub newest_received_at: Option<DateTime<Utc>>,
    /// Rows still waiting for the relay or an operator (pending or parked):
    /// they keep the partition.
    pub held: i64,
}

/// A partition dropped (or that would be), with the rows it held by tenant.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DroppedPartition {
    /// Table name.
    pub name: String,
    /// First id it held.
    pub first_id: i64,
    /// Notifications it held, by tenant.
    pub notifications: BTreeMap<String, i64>,
}

/// What erasure removed (or would remove).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Erased {
    /// Notifications whose body and headers were removed.
    pub notifications: i64,
    /// Pending notifications left alone (their events are not published
    /// yet; erase again once they are).
    pub pending_skipped: i64,
    /// Rejections whose body and headers were removed.
    pub rejections: i64,
}

/// Body of `POST /v1/erasures`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// Tenant.
    pub tenant: String,
    /// A subject, e.g. `order/553440887574627` (its notifications).
    #[serde(default)]
    pub subject: Option<String>,
    /// Received at or after.
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Received before.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// `true` (the default): count only.
    #[serde(default = "crate::yes")]
    pub dry_run: bool,
}

/// One tenant's retention, planned or applied.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TenantRetention {
    /// Tenant (absent: rejections that name no configured tenant).
    pub tenant: Option<String>,
    /// Days kept.
    pub days: u32,
    /// Older than this is removed.
    pub cutoff: DateTime<Utc>,
    /// Published notifications (with their events) removed, or to remove.
    pub notifications: i64,
    /// Of those, the ones in partitions dropped whole (every row of such a
    /// partition is older than the longest retention).
    pub in_dropped_partitions: i64,
    /// Rejections removed, or to remove.
    pub rejections: i64,
}
