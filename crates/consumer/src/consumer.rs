//! The consuming loop: one queue, one channel, bounded prefetch; each
//! message verified, decoded, recorded and handled in one inbox
//! transaction, and acknowledged only after that transaction committed.

use crate::inbox::Inbox;
use crate::verify::{Keys, VerifyError};
use crate::Message;
use futures_util::{FutureExt, StreamExt};
use hookgate_proto::CanonicalEvent;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, Connection, ConnectionProperties};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What a handler's failure is.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// Your code: called once per new message, inside the inbox transaction `tx`
/// (with [`crate::PgInbox`], a `sqlx::Transaction` to write your rows in).
/// `Ok` commits and acknowledges; `Err` (or a panic) undoes `tx` and
/// requeues or dead-letters the message ([`OnError`]).
pub trait Handler<Tx: Send>: Send + Sync {
    /// Handles one message.
    fn handle<'a>(
        &'a self,
        message: &'a Message,
        tx: &'a mut Tx,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;
}

/// What happens to a message whose handler failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Back to the queue after [`Config::retry_delay`], until it has been
    /// delivered [`Config::max_deliveries`] times; then dead-lettered.
    #[default]
    Requeue,
    /// Rejected at once: to the queue's dead-letter exchange, if any.
    DeadLetter,
}

/// Declaring the queue (else it must exist: [`Config::reuse`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declare {
    /// The tenant's exchange (`hookgate.<tenant>`).
    pub exchange: String,
    /// Binding keys (`keeta.order.#`).
    pub bindings: Vec<String>,
    /// Quorum (default: replicated, counts deliveries) or classic.
    pub quorum: bool,
    /// `x-dead-letter-exchange` of the queue (`hookgate.dlx`, the gateway's
    /// default for its own subscriptions).
    pub dead_letter_exchange: Option<String>,
}

/// Where and how to consume.
#[derive(Debug, Clone)]
pub struct Config {
    /// `amqp://user:password@host:5672/vhost`.
    pub url: String,
    /// Queue name.
    pub queue: String,
    /// Declare and bind the queue, or `None` to reuse an existing one.
    pub declare: Option<Declare>,
    /// Unacknowledged messages the broker sends ahead (default 16).
    pub prefetch: u16,
    /// Keys to verify signatures with; empty: not verified.
    pub keys: Keys,
    /// After a handler error.
    pub on_error: OnError,
    /// Pause before a failed message is requeued (default 1 s): a failing
    /// dependency is not hammered.
    pub retry_delay: Duration,
    /// Deliveries after which a failing message is dead-lettered instead of
    /// requeued (default 20; quorum queues count them).
    pub max_deliveries: u32,
    /// Consumer tag (default `hookgate-consumer`).
    pub tag: String,
}

impl Config {
    /// Consumes `queue`, declaring it (quorum, dead letters to
    /// `hookgate.dlx`) and binding it to `exchange` with `bindings`.
    pub fn new(
        url: impl Into<String>,
        queue: impl Into<String>,
        exchange: impl Into<String>,
        bindings: &[&str],
    ) -> Config {
        Config {
            declare: Some(Declare {
                exchange: exchange.into(),
                bindings: bindings.iter().map(|b| (*b).to_owned()).collect(),
                quorum: true,
                dead_letter_exchange: Some("hookgate.dlx".to_owned()),
            }),
            ..Config::reuse(url, queue)
        }
    }

    /// Consumes an existing queue (one the gateway declares from a tenant's
    /// `subscriptions`, say) without declaring anything.
    pub fn reuse(url: impl Into<String>, queue: impl Into<String>) -> Config {
        Config {
            url: url.into(),
            queue: queue.into(),
            declare: None,
            prefetch: 16,
            keys: Keys::none(),
            on_error: OnError::Requeue,
            retry_delay: Duration::from_secs(1),
            max_deliveries: 20,
            tag: "hookgate-consumer".to_owned(),
        }
    }

    /// Verifies every message with `keys` (refusing unsigned ones).
    pub fn verify_with(mut self, keys: Keys) -> Config {
        self.keys = keys;
        self
    }
}

/// Why the loop ended with an error (reconnect and run again: nothing
/// unacknowledged is lost, the broker redelivers it).
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    /// The broker connection or channel failed, or a declaration was refused.
    #[error("rabbitmq: {0}")]
    Amqp(#[from] lapin::Error),
    /// The broker cancelled the consumer (the queue was deleted, say).
    #[error("the broker ended the consumer")]
    Cancelled,
}

/// Counts of what the consumer did (read with [`Stats::snapshot`]).
#[derive(Debug, Default)]
pub struct Stats {
    handled: AtomicU64,
    duplicates: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
    reconnects: AtomicU64,
}

/// One reading of [`Stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Handled and committed.
    pub handled: u64,
    /// Dropped: already recorded in the inbox.
    pub duplicates: u64,
    /// Refused without calling the handler: a signature that does not
    /// verify, or a body that is not an event (dead-lettered).
    pub refused: u64,
    /// Handler (or inbox) failures: requeued or dead-lettered.
    pub failed: u64,
    /// Broker connections lost and made again.
    pub reconnects: u64,
}

impl Stats {
    /// The counts now.
    pub fn snapshot(&self) -> Counts {
        Counts {
            handled: self.handled.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
        }
    }
}

/// A consumer of one queue.
#[derive(Debug)]
pub struct Consumer {
    config: Config,
    stats: Arc<Stats>,
}

/// What to tell the broker about one delivery.
enum Settle {
    Ack,
    Requeue,
    Reject,
}

impl Consumer {
    /// A consumer with `config` (nothing connects before [`Consumer::run`]).
    pub fn new(config: Config) -> Consumer {
        Consumer {
            config,
            stats: Arc::new(Stats::default()),
        }
    }

    /// Its counts, shared (they keep counting while it runs).
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// Handles messages until `shutdown` is cancelled, connecting again
    /// whenever the broker connection or channel is lost (after 0.5 s,
    /// doubling to 30 s; each loss is logged and counted in
    /// [`Counts::reconnects`]): what was not acknowledged when it broke is
    /// redelivered, and the inbox drops what was already handled. On
    /// shutdown it takes no new message, finishes (commits and acknowledges)
    /// the one in hand, and closes; what was prefetched and not handled goes
    /// back to the queue. [`Consumer::run_once`] returns the first error instead.
    pub async fn run<I, H>(&self, inbox: &I, handler: &H, shutdown: CancellationToken) -> Result<(), ConsumerError>
    where
        I: Inbox,
        H: Handler<I::Tx>,
    {
        const FIRST: Duration = Duration::from_millis(500);
        let mut wait = FIRST;
        loop {
            let started = std::time::Instant::now();
            let Err(e) = self.run_once(inbox, handler, shutdown.clone()).await else {
                return Ok(());
            };
            if shutdown.is_cancelled() {
                return Ok(());
            }
            // A session that lasted starts the back-off afresh.
            if started.elapsed() > Duration::from_secs(30) {
                wait = FIRST;
            }
            self.stats.reconnects.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(queue = %self.config.queue, error = %e, retry_in_ms = wait.as_millis() as u64, "consumer lost its broker; connecting again");
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(wait) => {}
            }
            wait = (wait * 2).min(Duration::from_secs(30));
        }
    }

    /// One session: connects, declares, and handles messages until
    /// `shutdown` (then `Ok`) or until the connection fails (the error).
    pub async fn run_once<I, H>(&self, inbox: &I, handler: &H, shutdown: CancellationToken) -> Result<(), ConsumerError>
    where
        I: Inbox,
        H: Handler<I::Tx>,
    {
        let conn = Connection::connect(
            &self.config.url,
            ConnectionProperties::default().with_connection_name(self.config.tag.as_str().into()),
        )
        .await?;
        let result = self.consume(&conn, inbox, handler, shutdown).await;
        let _ = conn.close(200, "bye".into()).await;
        result
    }

    async fn consume<I, H>(
        &self,
        conn: &Connection,
        inbox: &I,
        handler: &H,
        shutdown: CancellationToken,
    ) -> Result<(), ConsumerError>
    where
        I: Inbox,
        H: Handler<I::Tx>,
    {
        let ch = conn.create_channel().await?;
        ch.basic_qos(self.config.prefetch, BasicQosOptions::default()).await?;
        if let Some(declare) = &self.config.declare {
            self.declare(&ch, declare).await?;
        }
        let mut deliveries = ch
            .basic_consume(
                self.config.queue.as_str().into(),
                self.config.tag.as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        tracing::info!(queue = %self.config.queue, prefetch = self.config.prefetch, verified = !self.config.keys.is_empty(), "consuming");
        loop {
            let delivery = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                next = deliveries.next() => match next {
                    None => return Err(ConsumerError::Cancelled),
                    Some(Err(e)) => return Err(e.into()),
                    Some(Ok(d)) => d,
                },
            };
            // Once in hand, a message is finished even when shutdown comes.
            let settle = self.process(&delivery, inbox, handler).await;
            let requeue = match settle {
                Settle::Ack => {
                    delivery.ack(BasicAckOptions::default()).await?;
                    continue;
                }
                Settle::Requeue => true,
                Settle::Reject => false,
            };
            delivery
                .nack(BasicNackOptions {
                    requeue,
                    ..Default::default()
                })
                .await?;
        }
        let _ = ch
            .basic_cancel(self.config.tag.as_str().into(), BasicCancelOptions::default())
            .await;
        // Closing the channel returns the prefetched, unhandled messages.
        let _ = ch.close(200, "shutdown".into()).await;
        tracing::info!(queue = %self.config.queue, "consumer stopped");
        Ok(())
    }

    async fn declare(&self, ch: &Channel, declare: &Declare) -> Result<(), lapin::Error> {
        let mut args = FieldTable::default();
        let kind = if declare.quorum { "quorum" } else { "classic" };
        args.insert("x-queue-type".into(), AMQPValue::LongString(LongString::from(kind)));
        if let Some(dlx) = &declare.dead_letter_exchange {
            args.insert(
                "x-dead-letter-exchange".into(),
                AMQPValue::LongString(LongString::from(dlx.as_str())),
            );
        }
        ch.queue_declare(
            self.config.queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            args,
        )
        .await?;
        for key in &declare.bindings {
            ch.queue_bind(
                self.config.queue.as_str().into(),
                declare.exchange.as_str().into(),
                key.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        }
        Ok(())
    }

    /// Verifies, decodes, records and handles one delivery; says how to settle it.
    async fn process<I, H>(&self, delivery: &lapin::message::Delivery, inbox: &I, handler: &H) -> Settle
    where
        I: Inbox,
        H: Handler<I::Tx>,
    {
        let headers = text_headers(delivery.properties.headers().as_ref());
        let message = match self.decode(delivery, headers) {
            Ok(m) => m,
            Err(refusal) => {
                self.stats.refused.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(queue = %self.config.queue, routing_key = %delivery.routing_key, reason = %refusal, "message refused (dead-lettered)");
                return Settle::Reject;
            }
        };
        let event = message.event.id.as_str();
        let mut tx = match inbox.begin().await {
            Ok(tx) => tx,
            Err(e) => return self.failed(&message, "inbox unavailable", &*e).await,
        };
        match inbox.record(&mut tx, &message).await {
            Ok(true) => {}
            Ok(false) => {
                self.stats.duplicates.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(event, key = %message.dedupe_key(), "already handled; dropped");
                return Settle::Ack;
            }
            Err(e) => return self.failed(&message, "inbox refused the record", &*e).await,
        }
        let outcome = std::panic::AssertUnwindSafe(handler.handle(&message, &mut tx))
            .catch_unwind()
            .await;
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return self.failed(&message, "handler failed", &*e).await,
            Err(panic) => {
                let text = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".to_owned());
                let e: HandlerError = text.into();
                return self.failed(&message, "handler panicked", &*e).await;
            }
        }
        if let Err(e) = inbox.commit(tx).await {
            return self.failed(&message, "commit failed", &*e).await;
        }
        self.stats.handled.fetch_add(1, Ordering::Relaxed);
        Settle::Ack
    }

    /// The message of a delivery, or why it is refused.
    fn decode(
        &self,
        delivery: &lapin::message::Delivery,
        headers: BTreeMap<String, String>,
    ) -> Result<Message, String> {
        if !self.config.keys.is_empty() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            self.config
                .keys
                .verify(&headers, &delivery.data, now)
                .map_err(|e: VerifyError| format!("signature: {e}"))?;
        }
        let event = CanonicalEvent::from_json(&delivery.data).map_err(|e| format!("not a hookgate event: {e}"))?;
        if let Some(id) = headers.get("webhook-id") {
            if *id != event.event.id {
                return Err(format!("webhook-id {id} is not the event's id {}", event.event.id));
            }
        }
        Ok(Message {
            event: event.event,
            raw: event.raw,
            routing_key: delivery.routing_key.to_string(),
            redelivered: delivery.redelivered,
            headers,
            body: delivery.data.clone(),
        })
    }

    /// A failed handling: counted, logged, and requeued (after the retry
    /// delay) or dead-lettered.
    async fn failed(&self, message: &Message, what: &str, error: &(dyn std::error::Error + Send + Sync)) -> Settle {
        self.stats.failed.fetch_add(1, Ordering::Relaxed);
        let deliveries = message.delivery_count() + 1;
        let requeue = self.config.on_error == OnError::Requeue && deliveries < self.config.max_deliveries;
        tracing::warn!(event = %message.event.id, key = %message.dedupe_key(), deliveries, requeue, error = %error, "{what}");
        if requeue {
            tokio::time::sleep(self.config.retry_delay).await;
            Settle::Requeue
        } else {
            Settle::Reject
        }
    }
}

/// AMQP headers as text (hookgate publishes long strings; numbers, as
/// `x-delivery-count`, are written out).
fn text_headers(table: Option<&FieldTable>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in table.map(|t| t.inner().iter()).into_iter().flatten() {
        let value = match v {
            AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
            AMQPValue::ShortString(s) => s.to_string(),
            AMQPValue::LongLongInt(n) => n.to_string(),
            AMQPValue::LongInt(n) => n.to_string(),
            AMQPValue::ShortInt(n) => n.to_string(),
            AMQPValue::LongUInt(n) => n.to_string(),
            AMQPValue::Boolean(b) => b.to_string(),
            _ => continue,
        };
        out.insert(k.to_string(), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NoInbox;

    struct Nothing;

    impl<Tx: Send> Handler<Tx> for Nothing {
        async fn handle(&self, _m: &Message, _tx: &mut Tx) -> Result<(), HandlerError> {
            Ok(())
        }
    }

    fn is_send<T: Send>(_: &T) {}

    /// `run` can be spawned on a multi-threaded runtime (its future is `Send`).
    #[test]
    fn the_loop_can_be_spawned() {
        let consumer = Consumer::new(Config::reuse("amqp://127.0.0.1:1", "q"));
        let run = consumer.run(&NoInbox, &Nothing, CancellationToken::new());
        is_send(&run);
    }

    #[test]
    fn numeric_headers_are_read_as_text() {
        let mut table = FieldTable::default();
        table.insert("x-delivery-count".into(), AMQPValue::LongLongInt(3));
        table.insert("webhook-id".into(), AMQPValue::LongString(LongString::from("e")));
        let h = text_headers(Some(&table));
        assert_eq!(h["x-delivery-count"], "3");
        assert_eq!(h["webhook-id"], "e");
    }
}
