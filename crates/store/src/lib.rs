//! PostgreSQL persistence: raw notifications, the outbox, published events,
//! rejections, provider registrations and the keys providers returned,
//! what operators read and change (filters, timelines, requeue, audit,
//! replay jobs); the embedded migrations ([`MIGRATOR`]).
//!
//! Architecture invariant: this is the only crate that names sqlx. Database
//! failures are translated here into [`StoreError`], whose
//! [`StoreError::is_unavailable`] lets the HTTP layer answer 503.

mod error;
mod events;
mod incidents;
mod notifications;
mod ops;
mod outbox;
mod partitions;
mod providers;
mod recipes;
mod rejections;
mod replay;
mod retention;
mod states;
mod traffic;
mod writer;

pub use error::StoreError;
pub use events::{EventRecord, Reservation};
pub use incidents::{IncidentChangeError, IncidentTransition, OperatorEvent};
pub use notifications::{InsertOutcome, StoredNotification};
pub use ops::{
    AuditEntry, EventSummary, NotificationFilter, NotificationPayload, NotificationSummary, Registration,
    RejectionFilter, RejectionSummary, Window,
};
pub use outbox::{ChangeListener, Claimed, OutboxRow, OutboxStats, OutboxStatus};
pub use partitions::{DroppedPartition, Partition, PARTITION_IDS};
pub use providers::{NewProviderWebhook, ProviderKey, ProviderWebhook};
pub use recipes::ProvenRecipe;
pub use rejections::{Rejection, StoredRejection};
pub use replay::{NewReplayJob, ReplayJob, ReplayProgress, REPLAY_CHANNEL};
pub use retention::{Erased, ErasureScope};
pub use states::{StateAdvance, SubjectState, SubjectStates};
pub use traffic::{ReplayMark, SourceActivity, TenantOutbox, TrafficDelta, TrafficRow};
pub use writer::{GroupWriter, InsertFailure, Writers};

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};
use std::str::FromStr;
use std::time::Duration;

/// Embedded migrations of `migrations/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// Pool options of a store.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Maximum connections.
    pub max_connections: u32,
    /// How long a caller waits for a connection.
    pub acquire_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(2),
        }
    }
}

/// Handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: PgPool,
}

fn options(url: &str) -> Result<PgConnectOptions, StoreError> {
    Ok(PgConnectOptions::from_str(url)?.application_name("hookgate"))
}

fn pool_options(cfg: &PoolConfig) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(cfg.max_connections)
        .min_connections(0)
        .acquire_timeout(cfg.acquire_timeout)
}

/// Free text (errors, details that may quote payload text) as PostgreSQL
/// `text` can hold it: NUL, which it cannot, becomes U+FFFD. Keys never come
/// here: they are made storable where they are derived, so they stay exact.
pub(crate) fn pg_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        std::borrow::Cow::Owned(text.replace('\0', "\u{fffd}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

impl Store {
    /// Connects (and creates the database first when asked and missing).
    pub async fn connect(url: &str, cfg: &PoolConfig, create_if_missing: bool) -> Result<Store, StoreError> {
        if create_if_missing {
            Store::create_database_if_missing(url).await?;
        }
        let pool = pool_options(cfg).connect_with(options(url)?).await?;
        Ok(Store { pool })
    }

    /// A store whose connections open on first use: starts even while the
    /// database is down (requests then get 503 until it is back).
    pub fn connect_lazy(url: &str, cfg: &PoolConfig) -> Result<Store, StoreError> {
        Ok(Store {
            pool: pool_options(cfg).connect_lazy_with(options(url)?),
        })
    }

    /// Creates the database named in `url` unless it exists.
    pub async fn create_database_if_missing(url: &str) -> Result<(), StoreError> {
        if !Postgres::database_exists(url).await? {
            match Postgres::create_database(url).await {
                Ok(()) => {}
                // Another process created it in the meantime.
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Drops the database named in `url`, disconnecting its sessions (tests).
    #[cfg(feature = "test-support")]
    pub async fn drop_database(url: &str) -> Result<(), StoreError> {
        Postgres::force_drop_database(url).await?;
        Ok(())
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// Round trip to the database (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query_scalar!("SELECT 1 AS \"one!\"")
            .fetch_one(&self.pool)
            .await?;
        Ok(())
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn free_text_loses_only_its_nul() {
        assert_eq!(super::pg_text("a\0b"), "a\u{fffd}b");
        assert!(matches!(super::pg_text("plain"), std::borrow::Cow::Borrowed("plain")));
    }
}
