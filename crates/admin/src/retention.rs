//! Retention as a policy: each tenant's cutoff (`retention_days`, else the
//! service's `retention.days`), what it would remove (the plan:
//! `GET /v1/retention`, `hookgate retention --dry-run`), and removing it
//! (the background task of the relaying processes, `POST /v1/retention/run`,
//! `hookgate retention`).

use chrono::{DateTime, Utc};
use hookgate_config::{RetentionSettings, Tenants};
use hookgate_store::{Store, StoreError};
use serde::Serialize;

/// One tenant's retention, planned or applied.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TenantRetention {
    /// Tenant (absent: rejections that name no configured tenant).
    pub tenant: Option<String>,
    /// Days kept.
    pub days: u32,
    /// Older than this is removed.
    pub cutoff: DateTime<Utc>,
    /// Published notifications (with their events) removed, or to remove.
    pub notifications: i64,
    /// Rejections removed, or to remove.
    pub rejections: i64,
}

fn policies(
    tenants: &Tenants,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> Vec<(Option<String>, u32, DateTime<Utc>)> {
    let cutoff = |days: u32| now - chrono::Duration::days(i64::from(days));
    tenants
        .iter()
        .map(|t| {
            let days = t.retention_days.unwrap_or(settings.days);
            (Some(t.id.to_string()), days, cutoff(days))
        })
        .chain(std::iter::once((None, settings.days, cutoff(settings.days))))
        .collect()
}

/// What retention would remove now.
pub async fn plan(
    store: &Store,
    tenants: &Tenants,
    settings: &RetentionSettings,
) -> Result<Vec<TenantRetention>, StoreError> {
    let configured: Vec<String> = tenants.iter().map(|t| t.id.to_string()).collect();
    let mut out = Vec::new();
    for (tenant, days, cutoff) in policies(tenants, settings, Utc::now()) {
        let (notifications, rejections) = match &tenant {
            Some(t) => store.retention_count(t, cutoff).await?,
            None => (0, store.retention_count_unowned(&configured, cutoff).await?),
        };
        out.push(TenantRetention {
            tenant,
            days,
            cutoff,
            notifications,
            rejections,
        });
    }
    Ok(out)
}

/// Removes what retention removes now; returns what it removed.
pub async fn apply(
    store: &Store,
    tenants: &Tenants,
    settings: &RetentionSettings,
) -> Result<Vec<TenantRetention>, StoreError> {
    let configured: Vec<String> = tenants.iter().map(|t| t.id.to_string()).collect();
    let mut out = Vec::new();
    for (tenant, days, cutoff) in policies(tenants, settings, Utc::now()) {
        let notifications = match &tenant {
            Some(t) => store.expire_notifications(t, cutoff, settings.batch).await?,
            None => 0,
        };
        let rejections = store
            .expire_rejections(tenant.as_deref(), &configured, cutoff, settings.batch)
            .await?;
        if notifications + rejections > 0 {
            tracing::info!(
                tenant = tenant.as_deref().unwrap_or("(none)"),
                days,
                notifications,
                rejections,
                "retention removed old rows"
            );
        }
        out.push(TenantRetention {
            tenant,
            days,
            cutoff,
            notifications,
            rejections,
        });
    }
    Ok(out)
}
