//! Retention as a policy: each tenant's cutoff (`retention_days`, else the
//! service's `retention.days`); the partitions of notifications older than
//! every cutoff, which go whole; what it would remove (the plan:
//! `GET /v1/retention`, `hookgate retention --dry-run`), and removing it
//! (the background task of the relaying processes, `POST /v1/retention/run`,
//! `hookgate retention`).

use chrono::{DateTime, Utc};
pub use hookgate_api_types::TenantRetention;
use hookgate_config::{RetentionSettings, Tenants};
use hookgate_store::{DroppedPartition, Store, StoreError};
use std::collections::BTreeMap;

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

/// The cutoff of whole partitions: the earliest of every cutoff.
fn partition_cutoff(policies: &[(Option<String>, u32, DateTime<Utc>)]) -> Option<DateTime<Utc>> {
    policies.iter().map(|p| p.2).min()
}

/// Notifications of dropped partitions, by tenant.
fn by_tenant(dropped: &[DroppedPartition]) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for p in dropped {
        for (tenant, n) in &p.notifications {
            *out.entry(tenant.clone()).or_default() += n;
        }
    }
    out
}

/// What retention would remove now.
pub async fn plan(
    store: &Store,
    tenants: &Tenants,
    settings: &RetentionSettings,
) -> Result<Vec<TenantRetention>, StoreError> {
    let configured: Vec<String> = tenants.iter().map(|t| t.id.to_string()).collect();
    let policies = policies(tenants, settings, Utc::now());
    let partitions = match partition_cutoff(&policies) {
        Some(cutoff) => by_tenant(&store.expired_partitions(cutoff).await?),
        None => BTreeMap::new(),
    };
    let mut out = Vec::new();
    for (tenant, days, cutoff) in policies {
        let (notifications, rejections) = match &tenant {
            Some(t) => store.retention_count(t, cutoff).await?,
            None => (0, store.retention_count_unowned(&configured, cutoff).await?),
        };
        let in_dropped_partitions = tenant.as_ref().and_then(|t| partitions.get(t)).copied().unwrap_or(0);
        out.push(TenantRetention {
            tenant,
            days,
            cutoff,
            notifications,
            in_dropped_partitions,
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
    let policies = policies(tenants, settings, Utc::now());
    // Tenant notifications past their one-day window are never sent again.
    store.expire_incident_deliveries().await?;
    // Whole partitions first: what is left is removed row by row.
    let partitions = match partition_cutoff(&policies) {
        Some(cutoff) => by_tenant(&store.drop_expired_partitions(cutoff, settings.batch).await?),
        None => BTreeMap::new(),
    };
    let mut out = Vec::new();
    for (tenant, days, cutoff) in policies {
        let in_dropped_partitions = tenant.as_ref().and_then(|t| partitions.get(t)).copied().unwrap_or(0);
        let notifications = in_dropped_partitions
            + match &tenant {
                Some(t) => store.expire_notifications(t, cutoff, settings.batch).await?,
                None => 0,
            };
        let rejections = store
            .expire_rejections(tenant.as_deref(), &configured, cutoff, settings.batch)
            .await?;
        // Subject states not advanced within the retention: their subject's
        // notifications are gone too, so nothing can be judged against them.
        if let Some(t) = &tenant {
            store.expire_subject_states(t, cutoff, settings.batch).await?;
        }
        if notifications + rejections > 0 {
            tracing::info!(
                tenant = tenant.as_deref().unwrap_or("(none)"),
                days,
                notifications,
                in_dropped_partitions,
                rejections,
                "retention removed old rows"
            );
        }
        out.push(TenantRetention {
            tenant,
            days,
            cutoff,
            notifications,
            in_dropped_partitions,
            rejections,
        });
    }
    Ok(out)
}
