//! The inbox: where a consumer records the messages it handled, so a
//! redelivery (the broker lost an ack, a duplicate publish, a restart between
//! commit and ack) is dropped instead of handled twice.
//!
//! The record and the handler's work share one transaction ([`Inbox::Tx`]):
//! either both commit or neither does. A message whose record is there is
//! acknowledged without calling the handler.

use crate::Message;
use std::future::Future;

/// An inbox failure (its store is unreachable, a statement failed): the
/// message is requeued and handled later.
pub type InboxError = Box<dyn std::error::Error + Send + Sync>;

/// Where handled messages are recorded.
pub trait Inbox: Send + Sync {
    /// The transaction a message's record and its handling share; dropping
    /// it without [`Inbox::commit`] undoes both.
    type Tx: Send;

    /// Opens the transaction of one message.
    fn begin(&self) -> impl Future<Output = Result<Self::Tx, InboxError>> + Send;

    /// Records `message` (by [`Message::dedupe_key`]) in `tx`; `false` when
    /// it was already recorded by a committed handling (drop it). A
    /// concurrent handling of the same key waits for the other to end.
    fn record<'a>(
        &'a self,
        tx: &'a mut Self::Tx,
        message: &'a Message,
    ) -> impl Future<Output = Result<bool, InboxError>> + Send + 'a;

    /// Commits the record and the handler's work together.
    fn commit(&self, tx: Self::Tx) -> impl Future<Output = Result<(), InboxError>> + Send;
}

/// No inbox: every delivery is handled (for idempotent handlers).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoInbox;

impl Inbox for NoInbox {
    type Tx = ();

    async fn begin(&self) -> Result<(), InboxError> {
        Ok(())
    }

    async fn record<'a>(&'a self, _tx: &'a mut (), _message: &'a Message) -> Result<bool, InboxError> {
        Ok(true)
    }

    async fn commit(&self, _tx: ()) -> Result<(), InboxError> {
        Ok(())
    }
}

#[cfg(feature = "postgres")]
pub use pg::PgInbox;

#[cfg(feature = "postgres")]
mod pg {
    use super::{Inbox, InboxError};
    use crate::Message;
    use sqlx::{PgPool, Postgres, Transaction};

    /// The inbox in PostgreSQL: table `hookgate_inbox` (made by
    /// [`PgInbox::migrate`]), in the transaction the handler writes its own
    /// rows in, so "processed" and "recorded" commit together.
    #[derive(Debug, Clone)]
    pub struct PgInbox {
        pool: PgPool,
    }

    impl PgInbox {
        /// An inbox on `pool`.
        pub fn new(pool: PgPool) -> PgInbox {
            PgInbox { pool }
        }

        /// Creates `hookgate_inbox` when it is not there.
        pub async fn migrate(&self) -> Result<(), sqlx::Error> {
            sqlx::query(
                "CREATE TABLE IF NOT EXISTS hookgate_inbox (
                    dedupe_key text PRIMARY KEY,
                    event_id text NOT NULL,
                    handled_at timestamptz NOT NULL DEFAULT now()
                )",
            )
            .execute(&self.pool)
            .await?;
            Ok(())
        }

        /// Whether a message with this dedupe key was handled (tests, support).
        pub async fn handled(&self, dedupe_key: &str) -> Result<bool, sqlx::Error> {
            let row: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM hookgate_inbox WHERE dedupe_key = $1")
                .bind(dedupe_key)
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.is_some())
        }

        /// Removes records older than `days` days (a redelivery comes within
        /// minutes; hookgate's own dedupe window is a day by default).
        pub async fn prune(&self, days: i32) -> Result<u64, sqlx::Error> {
            let done = sqlx::query("DELETE FROM hookgate_inbox WHERE handled_at < now() - make_interval(days => $1)")
                .bind(days)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected())
        }
    }

    impl Inbox for PgInbox {
        type Tx = Transaction<'static, Postgres>;

        async fn begin(&self) -> Result<Self::Tx, InboxError> {
            Ok(self.pool.begin().await?)
        }

        async fn record<'a>(&'a self, tx: &'a mut Self::Tx, message: &'a Message) -> Result<bool, InboxError> {
            let done = sqlx::query(
                "INSERT INTO hookgate_inbox (dedupe_key, event_id) VALUES ($1, $2) ON CONFLICT (dedupe_key) DO NOTHING",
            )
            .bind(message.dedupe_key())
            .bind(&message.event.id)
            .execute(&mut **tx)
            .await?;
            Ok(done.rows_affected() == 1)
        }

        async fn commit(&self, tx: Self::Tx) -> Result<(), InboxError> {
            Ok(tx.commit().await?)
        }
    }
}
