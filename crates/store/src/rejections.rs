//! Rejected requests, kept whole (the reader bounds a body by its source's
//! limit) for troubleshooting and re-admission.

use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use hookgate_core::{Header, SourceId, TenantId};

/// A refused request.
#[derive(Debug, Clone)]
pub struct Rejection<'a> {
    /// Tenant segment when it named a known tenant.
    pub tenant: Option<&'a TenantId>,
    /// Source segment when it named a known source.
    pub source: Option<&'a SourceId>,
    /// Machine-readable reason (metric label), e.g. `bad_signature`.
    pub reason: &'a str,
    /// Human-readable detail.
    pub detail: &'a str,
    /// Status answered.
    pub http_status: u16,
    /// Peer address.
    pub remote_addr: Option<&'a str>,
    /// Headers (redacted).
    pub headers: &'a [Header],
    /// Body as read (whole, or up to where the source's limit stopped it).
    pub body: &'a [u8],
    /// The URL it was sent to (some signatures cover it).
    pub request_url: Option<&'a str>,
    /// Full body size (may exceed what was read).
    pub body_size: i64,
}

/// A stored rejection (tests, support).
#[derive(Debug, Clone)]
pub struct StoredRejection {
    /// Tenant, when the request named a known one.
    pub tenant: Option<TenantId>,
    /// Headers as stored (credential values redacted).
    pub headers: serde_json::Value,
    /// Reason.
    pub reason: String,
    /// Detail.
    pub detail: String,
    /// Status.
    pub http_status: i32,
    /// Body size.
    pub body_size: i64,
    /// The body kept.
    pub body: Vec<u8>,
    /// When.
    pub received_at: DateTime<Utc>,
}

impl Store {
    /// Records a rejection.
    pub async fn record_rejection(&self, r: &Rejection<'_>) -> Result<(), StoreError> {
        let headers = serde_json::to_value(r.headers).unwrap_or_default();
        let detail = crate::pg_text(r.detail);
        sqlx::query!(
            r#"INSERT INTO rejections (tenant, source, reason, detail, http_status, remote_addr, headers, body, body_size,
                                       request_url)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"#,
            r.tenant.map(TenantId::as_str),
            r.source.map(SourceId::as_str),
            r.reason,
            detail.as_ref(),
            i32::from(r.http_status),
            r.remote_addr,
            headers,
            r.body,
            r.body_size,
            r.request_url
        )
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Rejections of a tenant (or of unknown tenants when `None`), newest first.
    #[cfg(feature = "test-support")]
    pub async fn rejections(&self, tenant: Option<&TenantId>) -> Result<Vec<StoredRejection>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT tenant, headers, reason, detail, http_status, body_size, body, received_at FROM rejections
               WHERE tenant IS NOT DISTINCT FROM $1 ORDER BY id DESC LIMIT 1000"#,
            tenant.map(TenantId::as_str)
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| StoredRejection {
                tenant: r.tenant.map(TenantId::from_stored),
                headers: r.headers,
                reason: r.reason,
                detail: r.detail,
                http_status: r.http_status,
                body_size: r.body_size,
                body: r.body,
                received_at: r.received_at,
            })
            .collect())
    }
}
