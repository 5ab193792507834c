//! Provider registrations (`hookgate register`) and the verification keys
//! providers returned.

use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use hookgate_core::{SourceId, TenantId};

/// One registration at a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderWebhook {
    /// Tenant id.
    pub tenant: TenantId,
    /// Source id.
    pub source: SourceId,
    /// `bh` or `keeta`.
    pub provider: String,
    /// BH `eventType` or Keeta `eventId`.
    pub event: String,
    /// Keeta's test-store set (`isTest = 1`).
    pub is_test: bool,
    /// BH `webhookId`.
    pub remote_id: Option<String>,
    /// The URL registered.
    pub url: String,
    /// Provider status as returned.
    pub status: Option<i32>,
    /// Public key returned (BH, Base64 DER).
    pub public_key: Option<String>,
    /// First registered.
    pub registered_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// What to record about a registration.
#[derive(Debug, Clone)]
pub struct NewProviderWebhook<'a> {
    /// Tenant id.
    pub tenant: &'a TenantId,
    /// Source id.
    pub source: &'a SourceId,
    /// `bh` or `keeta`.
    pub provider: &'a str,
    /// BH `eventType` or Keeta `eventId`.
    pub event: &'a str,
    /// Keeta test set.
    pub is_test: bool,
    /// BH `webhookId`.
    pub remote_id: Option<&'a str>,
    /// URL registered.
    pub url: &'a str,
    /// Provider status.
    pub status: Option<i32>,
    /// Public key returned.
    pub public_key: Option<&'a str>,
}

/// A verification key learned from a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderKey {
    /// Tenant id.
    pub tenant: TenantId,
    /// Source id.
    pub source: SourceId,
    /// Short hash naming the key.
    pub fingerprint: String,
    /// Base64 DER SPKI.
    pub public_key: String,
    /// Registration it came with.
    pub remote_id: Option<String>,
    /// When it was first seen.
    pub added_at: DateTime<Utc>,
    /// When it was removed (no longer accepted).
    pub removed_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Records (or updates) a registration.
    pub async fn upsert_provider_webhook(&self, w: &NewProviderWebhook<'_>) -> Result<(), StoreError> {
        sqlx::query!(
            r#"INSERT INTO provider_webhooks (tenant, source, provider, event, is_test, remote_id, url, status, public_key)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               ON CONFLICT (tenant, source, provider, event, is_test) DO UPDATE
               SET remote_id = EXCLUDED.remote_id, url = EXCLUDED.url, status = EXCLUDED.status,
                   public_key = EXCLUDED.public_key, updated_at = now()"#,
            w.tenant.as_str(),
            w.source.as_str(),
            w.provider,
            w.event,
            w.is_test,
            w.remote_id,
            w.url,
            w.status,
            w.public_key
        )
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Registrations, optionally of one tenant, ordered by tenant, source, provider, event.
    pub async fn provider_webhooks(&self, tenant: Option<&TenantId>) -> Result<Vec<ProviderWebhook>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT tenant, source, provider, event, is_test, remote_id, url, status, public_key, registered_at, updated_at
               FROM provider_webhooks WHERE $1::text IS NULL OR tenant = $1
               ORDER BY tenant, source, provider, event, is_test"#,
            tenant.map(TenantId::as_str)
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ProviderWebhook {
                tenant: TenantId::from_stored(r.tenant),
                source: SourceId::from_stored(r.source),
                provider: r.provider,
                event: r.event,
                is_test: r.is_test,
                remote_id: r.remote_id,
                url: r.url,
                status: r.status,
                public_key: r.public_key,
                registered_at: r.registered_at,
                updated_at: r.updated_at,
            })
            .collect())
    }

    /// Adds a key unless it is already there; a removed key comes back.
    /// Returns true when the key was not active before (then a `key_added`
    /// notice is recorded in the same transaction).
    pub async fn add_provider_key(
        &self,
        tenant: &TenantId,
        source: &SourceId,
        fingerprint: &str,
        public_key: &str,
        remote_id: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        crate::incidents::lock(&mut tx).await?;
        let previous = sqlx::query_scalar!(
            r#"SELECT removed_at IS NULL AS "active!" FROM provider_keys
               WHERE tenant = $1 AND source = $2 AND fingerprint = $3"#,
            tenant.as_str(),
            source.as_str(),
            fingerprint
        )
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query!(
            r#"INSERT INTO provider_keys (tenant, source, fingerprint, public_key, remote_id)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (tenant, source, fingerprint) DO UPDATE
               SET removed_at = NULL, remote_id = COALESCE(EXCLUDED.remote_id, provider_keys.remote_id)"#,
            tenant.as_str(),
            source.as_str(),
            fingerprint,
            public_key,
            remote_id
        )
        .execute(&mut *tx)
        .await?;
        let added = previous != Some(true);
        if added {
            key_notice(&mut tx, hookgate_watch::Kind::KeyAdded, tenant, source, fingerprint).await?;
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Keys, optionally of one tenant; removed ones only when asked.
    pub async fn provider_keys(
        &self,
        tenant: Option<&TenantId>,
        include_removed: bool,
    ) -> Result<Vec<ProviderKey>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT tenant, source, fingerprint, public_key, remote_id, added_at, removed_at
               FROM provider_keys
               WHERE ($1::text IS NULL OR tenant = $1) AND ($2 OR removed_at IS NULL)
               ORDER BY tenant, source, added_at, fingerprint"#,
            tenant.map(TenantId::as_str),
            include_removed
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ProviderKey {
                tenant: TenantId::from_stored(r.tenant),
                source: SourceId::from_stored(r.source),
                fingerprint: r.fingerprint,
                public_key: r.public_key,
                remote_id: r.remote_id,
                added_at: r.added_at,
                removed_at: r.removed_at,
            })
            .collect())
    }

    /// Stops accepting a key; true when an active key was removed.
    pub async fn remove_provider_key(
        &self,
        tenant: &TenantId,
        source: &SourceId,
        fingerprint: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        crate::incidents::lock(&mut tx).await?;
        let done = sqlx::query!(
            r#"UPDATE provider_keys SET removed_at = now()
               WHERE tenant = $1 AND source = $2 AND fingerprint = $3 AND removed_at IS NULL"#,
            tenant.as_str(),
            source.as_str(),
            fingerprint
        )
        .execute(&mut *tx)
        .await?;
        let removed = done.rows_affected() > 0;
        if removed {
            key_notice(&mut tx, hookgate_watch::Kind::KeyRemoved, tenant, source, fingerprint).await?;
        }
        tx.commit().await?;
        Ok(removed)
    }
}

/// A `key_added` or `key_removed` notice, in the transaction that made the change.
async fn key_notice(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    kind: hookgate_watch::Kind,
    tenant: &TenantId,
    source: &SourceId,
    fingerprint: &str,
) -> Result<(), StoreError> {
    let what = if kind == hookgate_watch::Kind::KeyAdded {
        "now accepts"
    } else {
        "no longer accepts"
    };
    let c = hookgate_watch::Condition {
        key: hookgate_watch::Key {
            kind,
            tenant: tenant.as_str().to_owned(),
            source: source.as_str().to_owned(),
            cause: fingerprint.to_owned(),
        },
        count: 1,
        samples: Vec::new(),
        summary: format!("{tenant}/{source} {what} the verification key {fingerprint}"),
    };
    crate::incidents::raise_in(tx, &c, chrono::Utc::now()).await?;
    Ok(())
}
