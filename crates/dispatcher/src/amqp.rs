//! RabbitMQ: connection management, topology, confirmed publishing, and
//! subscriptions (for `hookgate tail` and tests).
//!
//! Publishing follows lapin's publisher-confirms example
//! (<https://github.com/amqp-rs/lapin/blob/main/examples/publisher_confirms.rs>):
//! the channel is in confirm mode, messages are `mandatory`, and a publish
//! counts only when the broker acks it; a nack or a returned message is an
//! error (DESIGN.md §1 step 11).

use futures_util::StreamExt;
use hookgate_config::{RabbitSettings, Tenants};
use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::Confirmation;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::Mutex;

/// A RabbitMQ failure.
#[derive(Debug, thiserror::Error)]
pub enum AmqpError {
    /// Protocol or connection error.
    #[error("rabbitmq: {0}")]
    Lapin(#[from] lapin::Error),
    /// The broker nacked the message.
    #[error("broker nacked the message")]
    Nacked,
    /// The message was returned as unroutable (no alternate exchange took it).
    #[error("message returned unroutable: {0}")]
    Returned(String),
    /// No confirm within the timeout.
    #[error("no publisher confirm within {0:?}")]
    ConfirmTimeout(Duration),
}

/// One message to publish.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Exchange.
    pub exchange: String,
    /// Routing key.
    pub routing_key: String,
    /// Body (canonical event JSON).
    pub body: Vec<u8>,
    /// AMQP `message_id` (the event id).
    pub message_id: String,
    /// AMQP `type` (the routing key, for consumers that do not look at it).
    pub message_type: String,
    /// Unix seconds for the AMQP `timestamp`.
    pub timestamp: u64,
    /// Application headers (CloudEvents binding, traceparent).
    pub headers: BTreeMap<String, String>,
}

/// Declares the shared alternate exchange and its queue, and each tenant's
/// topic exchange pointing at it. Idempotent.
pub async fn declare_topology(channel: &Channel, rabbit: &RabbitSettings, tenants: &Tenants) -> Result<(), AmqpError> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .exchange_declare(
            rabbit.unrouted_exchange.as_str().into(),
            ExchangeKind::Fanout,
            durable,
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_declare(
            rabbit.unrouted_queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_bind(
            rabbit.unrouted_queue.as_str().into(),
            rabbit.unrouted_exchange.as_str().into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    for tenant in tenants.iter() {
        declare_tenant_exchange(channel, &tenant.exchange, &rabbit.unrouted_exchange).await?;
    }
    Ok(())
}

/// Declares a tenant's durable topic exchange with its alternate exchange.
pub async fn declare_tenant_exchange(channel: &Channel, exchange: &str, alternate: &str) -> Result<(), AmqpError> {
    let mut args = FieldTable::default();
    // https://www.rabbitmq.com/docs/ae: unroutable messages go to the AE instead of being dropped.
    args.insert(
        "alternate-exchange".into(),
        AMQPValue::LongString(LongString::from(alternate)),
    );
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            args,
        )
        .await?;
    Ok(())
}

/// A confirm-mode channel that reconnects on demand.
#[derive(Debug)]
pub struct Publisher {
    url: String,
    rabbit: RabbitSettings,
    tenants: Tenants,
    confirm_timeout: Duration,
    state: Mutex<Option<(Connection, Channel)>>,
}

impl Publisher {
    /// Creates a publisher; it connects on first use.
    pub fn new(rabbit: RabbitSettings, tenants: Tenants, confirm_timeout: Duration) -> Publisher {
        Publisher {
            url: rabbit.url.clone(),
            rabbit,
            tenants,
            confirm_timeout,
            state: Mutex::new(None),
        }
    }

    /// Connects now (and declares the topology) if not connected.
    pub async fn connect(&self) -> Result<Channel, AmqpError> {
        let mut state = self.state.lock().await;
        if let Some((conn, ch)) = state.as_ref() {
            if conn.status().connected() && ch.status().connected() {
                return Ok(ch.clone());
            }
        }
        *state = None;
        let conn = Connection::connect(
            &self.url,
            ConnectionProperties::default().with_connection_name("hookgate-dispatcher".into()),
        )
        .await?;
        let ch = conn.create_channel().await?;
        ch.confirm_select(ConfirmSelectOptions::default()).await?;
        declare_topology(&ch, &self.rabbit, &self.tenants).await?;
        tracing::info!("connected to RabbitMQ, topology declared");
        *state = Some((conn, ch.clone()));
        Ok(ch)
    }

    /// Forgets the connection after an error, so the next use reconnects.
    pub async fn reset(&self) {
        if let Some((conn, _)) = self.state.lock().await.take() {
            let _ = conn.close(0, "reset".into()).await;
        }
    }

    /// True when a connection is open.
    pub async fn is_connected(&self) -> bool {
        matches!(self.state.lock().await.as_ref(), Some((c, ch)) if c.status().connected() && ch.status().connected())
    }

    /// Publishes a batch in order on one channel (so the broker keeps their
    /// order), then awaits every confirm. Returns one result per message.
    pub async fn publish_all(&self, messages: &[Outgoing]) -> Result<Vec<Result<(), AmqpError>>, AmqpError> {
        let channel = self.connect().await?;
        let mut pending = Vec::with_capacity(messages.len());
        for m in messages {
            let mut headers = FieldTable::default();
            for (k, v) in &m.headers {
                headers.insert(k.as_str().into(), AMQPValue::LongString(LongString::from(v.as_str())));
            }
            let props = BasicProperties::default()
                .with_delivery_mode(2) // persistent
                .with_content_type("application/json".into())
                .with_message_id(ShortString::from(m.message_id.as_str()))
                .with_type(ShortString::from(m.message_type.as_str()))
                .with_app_id("hookgate".into())
                .with_timestamp(m.timestamp)
                .with_headers(headers);
            let confirm = channel
                .basic_publish(
                    m.exchange.as_str().into(),
                    m.routing_key.as_str().into(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..Default::default()
                    },
                    &m.body,
                    props,
                )
                .await;
            match confirm {
                Ok(c) => pending.push(Some(c)),
                Err(e) => {
                    // The channel is unusable; what was not sent fails, what was sent may still confirm.
                    tracing::warn!(error = %e, "publish failed");
                    pending.push(None);
                    self.reset_later();
                    break;
                }
            }
        }
        let mut results = Vec::with_capacity(messages.len());
        for c in pending {
            let r = match c {
                None => Err(AmqpError::Nacked),
                Some(c) => match tokio::time::timeout(self.confirm_timeout, c).await {
                    Err(_) => Err(AmqpError::ConfirmTimeout(self.confirm_timeout)),
                    Ok(Err(e)) => Err(AmqpError::Lapin(e)),
                    Ok(Ok(Confirmation::Ack(None))) => Ok(()),
                    Ok(Ok(Confirmation::Ack(Some(ret)))) => Err(AmqpError::Returned(ret.reply_text.to_string())),
                    Ok(Ok(Confirmation::Nack(_))) | Ok(Ok(Confirmation::NotRequested)) => Err(AmqpError::Nacked),
                },
            };
            results.push(r);
        }
        while results.len() < messages.len() {
            results.push(Err(AmqpError::Nacked));
        }
        Ok(results)
    }

    fn reset_later(&self) {
        if let Ok(mut state) = self.state.try_lock() {
            *state = None;
        }
    }
}

/// A message received by a [`Subscription`].
#[derive(Debug, Clone)]
pub struct Received {
    /// Routing key.
    pub routing_key: String,
    /// AMQP message id.
    pub message_id: Option<String>,
    /// Content type.
    pub content_type: Option<String>,
    /// Persistent (delivery mode 2)?
    pub persistent: bool,
    /// String-valued application headers.
    pub headers: BTreeMap<String, String>,
    /// Body.
    pub body: Vec<u8>,
}

/// A temporary queue bound to an exchange, consumed with auto-ack: what
/// `hookgate tail` and the tests use to watch events.
#[derive(Debug)]
pub struct Subscription {
    _conn: Connection,
    consumer: lapin::Consumer,
    /// Name of the server-named queue.
    pub queue: String,
}

impl Subscription {
    /// Declares an exclusive, auto-delete queue on `exchange` with the given
    /// binding keys (declaring the exchange as hookgate would, so the
    /// subscription can start before the gateway).
    pub async fn open(
        url: &str,
        exchange: &str,
        alternate: &str,
        bindings: &[String],
    ) -> Result<Subscription, AmqpError> {
        let conn = Connection::connect(
            url,
            ConnectionProperties::default().with_connection_name("hookgate-tail".into()),
        )
        .await?;
        let ch = conn.create_channel().await?;
        declare_tenant_exchange(&ch, exchange, alternate).await?;
        let q = ch
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;
        let queue = q.name().to_string();
        for key in bindings {
            ch.queue_bind(
                queue.as_str().into(),
                exchange.into(),
                key.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        }
        Self::consume(conn, ch, queue).await
    }

    /// Consumes an existing queue (e.g. the unrouted queue) without declaring it.
    pub async fn existing(url: &str, queue: &str) -> Result<Subscription, AmqpError> {
        let conn = Connection::connect(url, ConnectionProperties::default()).await?;
        let ch = conn.create_channel().await?;
        Self::consume(conn, ch, queue.to_owned()).await
    }

    async fn consume(conn: Connection, ch: Channel, queue: String) -> Result<Subscription, AmqpError> {
        let consumer = ch
            .basic_consume(
                queue.as_str().into(),
                "hookgate-tail".into(),
                BasicConsumeOptions {
                    no_ack: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;
        Ok(Subscription {
            _conn: conn,
            consumer,
            queue,
        })
    }

    /// The next message; `None` when the consumer was cancelled.
    pub async fn next(&mut self) -> Option<Result<Received, AmqpError>> {
        let delivery = match self.consumer.next().await? {
            Ok(d) => d,
            Err(e) => return Some(Err(e.into())),
        };
        let props = &delivery.properties;
        let mut headers = BTreeMap::new();
        if let Some(table) = props.headers() {
            for (k, v) in table.inner() {
                let value = match v {
                    AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
                    AMQPValue::ShortString(s) => s.to_string(),
                    other => format!("{other:?}"),
                };
                headers.insert(k.to_string(), value);
            }
        }
        Some(Ok(Received {
            routing_key: delivery.routing_key.to_string(),
            message_id: props.message_id().as_ref().map(|s| s.to_string()),
            content_type: props.content_type().as_ref().map(|s| s.to_string()),
            persistent: *props.delivery_mode() == Some(2),
            headers,
            body: delivery.data.clone(),
        }))
    }
}

/// Deletes exchanges and queues (test cleanup; missing ones are fine).
pub async fn delete_topology(url: &str, exchanges: &[String], queues: &[String]) -> Result<(), AmqpError> {
    let conn = Connection::connect(url, ConnectionProperties::default()).await?;
    let ch = conn.create_channel().await?;
    for q in queues {
        ch.queue_delete(q.as_str().into(), lapin::options::QueueDeleteOptions::default())
            .await?;
    }
    for x in exchanges {
        ch.exchange_delete(x.as_str().into(), lapin::options::ExchangeDeleteOptions::default())
            .await?;
    }
    conn.close(0, "cleanup".into()).await?;
    Ok(())
}
