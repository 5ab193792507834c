//! Consume hookgate's canonical events from RabbitMQ.
//!
//! For each message of a queue bound to a tenant's exchange, a [`Consumer`]
//! verifies the Standard Webhooks signature (when you give it [`Keys`]),
//! decodes the body into the typed [`hookgate_proto::v1::Event`], drops it
//! when the [`Inbox`] says it was handled already (a redelivery, a duplicate
//! publish), calls your [`Handler`] inside the inbox transaction, and
//! acknowledges only after that transaction committed. A handler error
//! undoes the transaction and requeues the message (or dead-letters it,
//! [`OnError`]); a message that does not verify or is not an event is
//! dead-lettered without reaching the handler. The replay marker
//! ([`Message::replay_job`]) and the stale flag ([`Message::is_stale`]) are
//! the handler's to read. A lost broker connection is made again (the
//! unacknowledged messages come back; the inbox drops what was handled).
//! Cancelling the shutdown token stops it after the
//! message in hand.
//!
//! ```no_run
//! use hookgate_consumer::{Config, Consumer, Handler, HandlerError, Keys, Message, PgInbox};
//! use sqlx::{Postgres, Transaction};
//!
//! struct Orders;
//!
//! impl Handler<Transaction<'static, Postgres>> for Orders {
//!     async fn handle(&self, m: &Message, tx: &mut Transaction<'static, Postgres>) -> Result<(), HandlerError> {
//!         if m.is_stale() { return Ok(()); } // an older state than one already applied
//!         sqlx::query("INSERT INTO order_events (subject, type) VALUES ($1, $2)")
//!             .bind(&m.event.subject).bind(&m.event.r#type).execute(&mut **tx).await?;
//!         Ok(())
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let pool = sqlx::PgPool::connect("postgres://localhost/orders").await?;
//! let inbox = PgInbox::new(pool);
//! inbox.migrate().await?;
//! let keys = Keys::none().hmac_secret(&std::env::var("ACME_SIGNING_SECRET")?)?;
//! let config = Config::new("amqp://localhost:5672", "orders", "hookgate.acme", &["keeta.order.#"]).verify_with(keys);
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! Consumer::new(config).run(&inbox, &Orders, shutdown).await?;
//! # Ok(()) }
//! ```
//!
//! What a consumer may rely on (ordering, dedupe, replays, versioning):
//! `docs/events.md` of the hookgate repository, "Consuming events".

mod consumer;
pub mod inbox;
mod message;
pub mod verify;

pub use consumer::{Config, Consumer, ConsumerError, Counts, Declare, Handler, HandlerError, OnError, Stats};
#[cfg(feature = "postgres")]
pub use inbox::PgInbox;
pub use inbox::{Inbox, InboxError, NoInbox};
pub use message::{Message, REPLAY_HEADER, STALE_HEADER};
pub use verify::{KeyError, Keys, VerifyError};

/// The canonical event types (`hookgate-proto`), re-exported.
pub use hookgate_proto as proto;
