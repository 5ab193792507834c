//! Rejected requests and their re-admission.

#![allow(unused_imports)]

use crate::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A rejected request, as listed.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RejectionSummary {
    /// Id.
    pub id: i64,
    /// Tenant, when the request named a configured one.
    pub tenant: Option<String>,
    /// Source, likewise.
    pub source: Option<String>,
    /// Reason (metric label).
    pub reason: String,
    /// Detail.
    pub detail: String,
    /// Status answered.
    pub http_status: i32,
    /// Peer address.
    pub remote_addr: Option<String>,
    /// Body size the request had (may exceed what was kept).
    pub body_size: i64,
    /// Bytes kept.
    pub body_kept: i64,
    /// The URL it was sent to.
    pub request_url: Option<String>,
    /// When.
    pub received_at: DateTime<Utc>,
    /// The notification it became when re-admitted.
    pub readmitted_as: Option<i64>,
    /// When it was re-admitted.
    pub readmitted_at: Option<DateTime<Utc>>,
}

/// One rejection in full.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RejectionDetail {
    /// Metadata.
    pub rejection: RejectionSummary,
    /// The stored request; absent without the `read_payload` scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
}

/// What a re-admission did.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReadmitResult {
    /// `stored`, or `already_stored` (the provider's retry got through meanwhile).
    pub outcome: String,
    /// The notification.
    pub notification_id: i64,
}
