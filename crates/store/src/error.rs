//! Database failures as typed outcomes.

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached in time (pool timeout, IO, shutdown):
    /// the caller should answer 503 and let the provider retry.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Any other database error.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// Applying migrations failed.
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The group commit this request was part of failed.
    #[error("the group commit failed")]
    Batch(#[source] std::sync::Arc<StoreError>),
    /// A stored value this build cannot read (written by another version).
    #[error("unreadable stored value: {0}")]
    Corrupt(String),
    /// The group-commit writers have stopped (shutdown).
    #[error("the database writers have stopped")]
    WriterStopped,
    /// A value given to the query cannot be held by PostgreSQL text (a NUL
    /// byte, SQLSTATE 22021/22P05): the caller's input is at fault.
    #[error("a text value contains a NUL byte, which PostgreSQL text cannot hold")]
    InvalidText(#[source] sqlx::Error),
}

impl StoreError {
    /// True when retrying later may succeed (the database is unreachable).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) | StoreError::WriterStopped => true,
            StoreError::Batch(inner) => inner.is_unavailable(),
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                StoreError::Unavailable(e)
            }
            // admin_shutdown, cannot_connect_now, too_many_connections, crash_shutdown
            sqlx::Error::Database(db)
                if matches!(db.code().as_deref(), Some("57P01" | "57P02" | "57P03" | "53300")) =>
            {
                StoreError::Unavailable(e)
            }
            // character_not_in_repertoire (a NUL in text), untranslatable_character
            sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("22021" | "22P05")) => {
                StoreError::InvalidText(e)
            }
            _ => StoreError::Database(e),
        }
    }
}
