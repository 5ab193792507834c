//! RabbitMQ: connection management, topology, confirmed publishing, and
//! subscriptions (for `hookgate tail` and tests).
//!
//! Publishing follows lapin's publisher-confirms example
//! (<https://github.com/amqp-rs/lapin/blob/main/examples/publisher_confirms.rs>):
//! the channel is in confirm mode, messages are `mandatory`, and a publish
//! counts only when the broker acks it; a nack or a returned message is an
//! error (DESIGN.md §1 step 11).

use futures_util::StreamExt;
use hookgate_config::{LiveTenants, RabbitSettings, Tenant};
use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::Confirmation;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use tokio::sync::Mutex;

/// A RabbitMQ failure.
#[derive(Debug, thiserror::Error)]
pub enum AmqpError {
    /// Protocol or connection error.
    #[error("rabbitmq")]
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
    /// The message cannot be expressed in AMQP (it was not sent).
    #[error("{field} is {len} bytes; an AMQP short string holds at most 255")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// The message is larger than the broker takes (it was not sent).
    #[error("{what} is {len} bytes; at most {max} are published")]
    TooLarge {
        /// Which part (a header value, all properties, the body).
        what: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// Not sent: an earlier message of the same publish broke the channel.
    #[error("not sent: the channel failed before this message")]
    NotSent,
}

impl AmqpError {
    /// Whether the message itself is at fault (it was never sent, and
    /// sending it again would fail the same way): the row parks at once.
    pub fn is_permanent(&self) -> bool {
        matches!(self, AmqpError::TooLong { .. } | AmqpError::TooLarge { .. })
    }
}

/// Longest AMQP short string (AMQP 0-9-1 §4.2.5.3: a one-byte length).
/// lapin asserts it while encoding a frame (a panic in debug builds, a
/// corrupt frame in release ones), so it is checked before anything is sent.
pub const SHORT_STRING_MAX: usize = 255;

/// Longest application header value published. Values are long strings
/// (no AMQP limit of their own), but every property of a message travels in
/// ONE content-header frame (AMQP 0-9-1 §4.2.6.1), which must fit the
/// negotiated `frame_max` (RabbitMQ: 131,072 bytes by default): an
/// oversized one makes the broker close the whole connection
/// (`501 FRAME_ERROR`), failing every message in flight on it, other
/// tenants' included. The subject, the longest value hookgate puts there,
/// is bounded to 512 bytes where events are made.
pub const HEADER_VALUE_MAX: usize = 4096;

/// Most bytes all properties of one message may take once encoded: well
/// inside the smallest `frame_max` a broker may negotiate for the header
/// frame (AMQP's minimum frame size is 4,096; RabbitMQ's default 131,072).
pub const PROPERTIES_MAX: usize = 32 * 1024;

/// Largest body published: RabbitMQ 3.x refuses messages over
/// `max_message_size` (128 MiB by default; 16 MiB from RabbitMQ 4.0) by
/// closing the channel. 16 MiB fits both.
pub const BODY_MAX: usize = 16 * 1024 * 1024;

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
    /// Virtual host of the tenant (`None`: the URL's).
    pub vhost: Option<String>,
}

impl Outgoing {
    /// Checks, before anything is sent, everything the broker could refuse
    /// for this message alone by breaking the channel or the connection:
    /// short strings (exchange, routing key, message id, type, header
    /// names), each header value, the encoded size of all properties, and
    /// the body. A message that fails here is unpublishable as it is.
    pub fn check(&self) -> Result<(), AmqpError> {
        self.check_short_strings()?;
        for value in self.headers.values() {
            if value.len() > HEADER_VALUE_MAX {
                return Err(AmqpError::TooLarge {
                    what: "a header value",
                    len: value.len(),
                    max: HEADER_VALUE_MAX,
                });
            }
        }
        let properties = self.properties_size();
        if properties > PROPERTIES_MAX {
            return Err(AmqpError::TooLarge {
                what: "the message properties",
                len: properties,
                max: PROPERTIES_MAX,
            });
        }
        if self.body.len() > BODY_MAX {
            return Err(AmqpError::TooLarge {
                what: "the body",
                len: self.body.len(),
                max: BODY_MAX,
            });
        }
        Ok(())
    }

    /// An upper bound of the encoded size of the message's properties
    /// (AMQP 0-9-1 §4.2.5: a short string is a length byte and its bytes, a
    /// field-table entry a short-string name, a type byte and a long string
    /// with a 4-byte length), plus the fixed fields and flags.
    pub fn properties_size(&self) -> usize {
        const FIXED: usize = 64; // flags, class, weight, body size, delivery mode, timestamp, table length
        let strings = [
            "application/json",
            "hookgate",
            self.message_id.as_str(),
            self.message_type.as_str(),
        ];
        let headers: usize = self.headers.iter().map(|(k, v)| 1 + k.len() + 1 + 4 + v.len()).sum();
        FIXED + strings.iter().map(|s| 1 + s.len()).sum::<usize>() + headers
    }

    fn check_short_strings(&self) -> Result<(), AmqpError> {
        let fields = [
            ("exchange", self.exchange.as_str()),
            ("routing key", self.routing_key.as_str()),
            ("message id", self.message_id.as_str()),
            ("type", self.message_type.as_str()),
        ];
        let headers = self.headers.keys().map(|k| ("header name", k.as_str()));
        for (field, value) in fields.into_iter().chain(headers) {
            if value.len() > SHORT_STRING_MAX {
                return Err(AmqpError::TooLong {
                    field,
                    len: value.len(),
                });
            }
        }
        Ok(())
    }
}

/// The AMQP URL of `vhost` (`None`: the URL's own).
pub fn vhost_url(base: &str, vhost: Option<&str>) -> String {
    let Some(vhost) = vhost else { return base.to_owned() };
    let (head, query) = base.split_once('?').map_or((base, None), |(h, q)| (h, Some(q)));
    let authority_end = head.find("://").map_or(0, |i| i + 3);
    let host_part = match head[authority_end..].find('/') {
        Some(i) => &head[..authority_end + i],
        None => head,
    };
    let encoded: String = vhost
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    match query {
        Some(q) => format!("{host_part}/{encoded}?{q}"),
        None => format!("{host_part}/{encoded}"),
    }
}

/// Declares, in one vhost, the alternate exchange and its queue, and the
/// topic exchange of each tenant. Idempotent. Subscriptions are declared
/// separately ([`declare_subscriptions`]) so a mismatch there cannot stop
/// publishing; so is the alternate exchange's queue, on a channel of its
/// own (a classic queue whose node is down answers NOT_FOUND and closes the
/// channel: logged, publishing goes on).
pub async fn declare_topology(
    conn: &Connection,
    channel: &Channel,
    rabbit: &RabbitSettings,
    exchanges: &[String],
) -> Result<(), AmqpError> {
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
    if let Err(e) = declare_unrouted_queue(conn, rabbit).await {
        tracing::warn!(queue = %rabbit.unrouted_queue, error = %hookgate_core::Chain(&e), "the queue of unroutable events cannot be declared (a classic queue whose node is down?); publishing goes on, unroutable events are dropped by the broker until it is back (rabbitmq.unrouted_queue_type = \"quorum\" replicates it)");
    }
    for exchange in exchanges {
        declare_tenant_exchange(channel, exchange, &rabbit.unrouted_exchange).await?;
    }
    Ok(())
}

/// A durable exchange with a durable queue that receives everything sent to it.
async fn declare_fanout_with_queue(channel: &Channel, exchange: &str, queue: &str) -> Result<(), AmqpError> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .exchange_declare(exchange.into(), ExchangeKind::Fanout, durable, FieldTable::default())
        .await?;
    channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_bind(
            queue.into(),
            exchange.into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    Ok(())
}

/// The alternate exchange's durable queue (of `rabbitmq.unrouted_queue_type`)
/// and its binding, on a channel of its own.
async fn declare_unrouted_queue(conn: &Connection, rabbit: &RabbitSettings) -> Result<(), AmqpError> {
    let ch = conn.create_channel().await?;
    let mut args = FieldTable::default();
    if rabbit.unrouted_queue_type == hookgate_config::QueueType::Quorum {
        args.insert("x-queue-type".into(), AMQPValue::LongString(LongString::from("quorum")));
    }
    ch.queue_declare(
        rabbit.unrouted_queue.as_str().into(),
        QueueDeclareOptions {
            durable: true,
            ..Default::default()
        },
        args,
    )
    .await?;
    ch.queue_bind(
        rabbit.unrouted_queue.as_str().into(),
        rabbit.unrouted_exchange.as_str().into(),
        "".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await?;
    let _ = ch.close(200, "declared".into()).await;
    Ok(())
}

/// Declares the durable topic exchange of operator events (in the URL's
/// own vhost). It has no alternate exchange: an operator event nobody binds
/// is not kept on the broker (the incident's transitions are in PostgreSQL).
pub async fn declare_ops_exchange(channel: &Channel, exchange: &str) -> Result<(), AmqpError> {
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
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

/// Declares and binds a tenant's subscriptions, each on a channel of its own:
/// a queue that exists with other arguments (RabbitMQ answers
/// PRECONDITION_FAILED and closes the channel) yields a clear error for that
/// queue and leaves the others and the publishing channel alone.
/// Returns one message per subscription that could not be declared.
pub async fn declare_subscriptions(conn: &Connection, tenant: &Tenant) -> Vec<String> {
    let mut problems = Vec::new();
    for sub in &tenant.subscriptions {
        let result = async {
            let ch = conn.create_channel().await?;
            // The dead-letter exchange and a queue keeping what lands there.
            declare_fanout_with_queue(&ch, &sub.dead_letter_exchange, &sub.dead_letter_exchange).await?;
            let mut args = FieldTable::default();
            // https://www.rabbitmq.com/docs/quorum-queues, https://www.rabbitmq.com/docs/dlx
            args.insert(
                "x-queue-type".into(),
                AMQPValue::LongString(LongString::from(sub.queue_type.as_str())),
            );
            args.insert(
                "x-dead-letter-exchange".into(),
                AMQPValue::LongString(LongString::from(sub.dead_letter_exchange.as_str())),
            );
            ch.queue_declare(
                sub.queue.as_str().into(),
                QueueDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                args,
            )
            .await?;
            for key in &sub.bindings {
                ch.queue_bind(
                    sub.queue.as_str().into(),
                    tenant.exchange.as_str().into(),
                    key.as_str().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            }
            let _ = ch.close(200, "declared".into()).await;
            Ok::<_, AmqpError>(())
        }
        .await;
        if let Err(e) = result {
            let message = format!(
                "tenant {}: subscription queue {:?} could not be declared ({e}); if it already exists with other \
                 arguments (x-queue-type={}, x-dead-letter-exchange={}), delete it or align the configuration",
                tenant.id,
                sub.queue,
                sub.queue_type.as_str(),
                sub.dead_letter_exchange
            );
            tracing::error!("{message}");
            problems.push(message);
        }
    }
    problems
}

/// How long a vhost that failed to connect, while others are connected,
/// is left alone before it is tried again.
const DOWN_RETRY: Duration = Duration::from_secs(2);

/// A vhost the publisher could not connect to: when, and why.
#[derive(Debug, Clone)]
struct Down {
    since: std::time::Instant,
    error: String,
}

/// The vhost name as shown (`(default)` for the URL's own).
pub fn shown_vhost(vhost: &str) -> &str {
    if vhost.is_empty() {
        "(default)"
    } else {
        vhost
    }
}

/// Confirm-mode channels, one connection per vhost, reconnected on demand.
/// A vhost that cannot be reached holds back only its own tenants
/// ([`Publisher::connect`] names it; the relay leaves their rows pending).
#[derive(Debug)]
pub struct Publisher {
    rabbit: RabbitSettings,
    tenants: LiveTenants,
    confirm_timeout: Duration,
    state: Mutex<HashMap<String, (Connection, Channel)>>,
    down: std::sync::Mutex<HashMap<String, Down>>,
    metrics: Option<std::sync::Arc<hookgate_telemetry::Metrics>>,
    /// The node to try first (`rabbitmq.url` lists several): the one that
    /// answered last, or the one after it once its connection was lost.
    next_node: std::sync::atomic::AtomicUsize,
}

impl Publisher {
    /// Creates a publisher; it connects on first use.
    pub fn new(rabbit: RabbitSettings, tenants: impl Into<LiveTenants>, confirm_timeout: Duration) -> Publisher {
        Publisher {
            rabbit,
            tenants: tenants.into(),
            confirm_timeout,
            state: Mutex::new(HashMap::new()),
            down: std::sync::Mutex::new(HashMap::new()),
            metrics: None,
            next_node: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// A connection to `vhost` on the first node that answers, starting
    /// from [`Publisher::next_node`]; the last node's error when none does.
    async fn connect_node(&self, vhost: &str, name: &str) -> Result<Connection, AmqpError> {
        use std::sync::atomic::Ordering;
        let nodes = self.rabbit.nodes();
        let start = self.next_node.load(Ordering::SeqCst);
        let mut last = None;
        for i in 0..nodes.len() {
            let at = (start + i) % nodes.len();
            let url = vhost_url(nodes[at], (!vhost.is_empty()).then_some(vhost));
            let props = ConnectionProperties::default().with_connection_name(name.into());
            match Connection::connect(&url, props).await {
                Ok(conn) => {
                    if at != start && nodes.len() > 1 {
                        tracing::info!(node = at, "connected to RabbitMQ through another node");
                    }
                    self.next_node.store(at, Ordering::SeqCst);
                    return Ok(conn);
                }
                Err(e) => {
                    if nodes.len() > 1 {
                        tracing::warn!(node = at, error = %hookgate_core::Chain(&e), "RabbitMQ node not reachable; trying the next");
                    }
                    last = Some(e);
                }
            }
        }
        // `nodes()` is never empty: there was at least one attempt.
        Err(last.map_or(AmqpError::NotSent, AmqpError::from))
    }

    /// Reports each vhost's connection in `hookgate_vhost_up`.
    pub fn with_metrics(mut self, metrics: std::sync::Arc<hookgate_telemetry::Metrics>) -> Publisher {
        self.metrics = Some(metrics);
        self
    }

    /// Every vhost the tenants use (`""` = the URL's own).
    fn vhosts(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .tenants
            .load()
            .iter()
            .map(|t| t.vhost.clone().unwrap_or_default())
            .collect();
        v.push(String::new());
        v.sort();
        v.dedup();
        v
    }

    /// Connects every vhost not connected yet (declaring its topology) and
    /// returns the vhosts that could not be connected: their tenants wait,
    /// every other tenant publishes. Fails only when no vhost is connected
    /// (the broker is unreachable): then nothing should be claimed. A vhost
    /// that failed while others work is tried again after a pause, so one
    /// broken vhost does not slow every batch down.
    pub async fn connect(&self) -> Result<Vec<String>, AmqpError> {
        let vhosts = self.vhosts();
        let any_up = {
            let state = self.state.lock().await;
            state
                .values()
                .any(|(c, ch)| c.status().connected() && ch.status().connected())
        };
        let mut failed = Vec::new();
        let mut last_error = None;
        for vhost in &vhosts {
            let resting = any_up
                && self
                    .down_map()
                    .get(vhost)
                    .is_some_and(|d| d.since.elapsed() < DOWN_RETRY);
            if resting {
                failed.push(vhost.clone());
                continue;
            }
            match self.channel(vhost).await {
                Ok(_) => {
                    if self.down_map().remove(vhost).is_some() {
                        tracing::info!(vhost = shown_vhost(vhost), "vhost reachable again");
                    }
                    self.report(vhost, true);
                }
                Err(e) => {
                    let error = hookgate_core::Chain(&e).to_string();
                    let first = self
                        .down_map()
                        .insert(
                            vhost.clone(),
                            Down {
                                since: std::time::Instant::now(),
                                error: error.clone(),
                            },
                        )
                        .is_none();
                    if first {
                        tracing::error!(vhost = shown_vhost(vhost), error = %error, tenants = ?self.tenants_of(vhost), "vhost unreachable; its tenants wait, the others publish");
                    }
                    self.report(vhost, false);
                    failed.push(vhost.clone());
                    last_error = Some(e);
                }
            }
        }
        match last_error {
            Some(e) if failed.len() == vhosts.len() => Err(e),
            _ => Ok(failed),
        }
    }

    fn down_map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Down>> {
        self.down.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn report(&self, vhost: &str, up: bool) {
        if let Some(m) = &self.metrics {
            m.vhost_connected(shown_vhost(vhost), up);
        }
    }

    /// The tenants publishing through `vhost`.
    pub fn tenants_of(&self, vhost: &str) -> Vec<String> {
        (self.tenants.load().iter())
            .filter(|t| t.vhost.as_deref().unwrap_or("") == vhost)
            .map(|t| t.id.to_string())
            .collect()
    }

    /// Whether the publisher can publish at all: some vhost has an open
    /// connection and channel. Read-only (readiness): it never connects.
    pub async fn connected(&self) -> Result<(), String> {
        let state = self.state.lock().await;
        let up = self.vhosts().iter().any(|v| {
            state
                .get(v)
                .is_some_and(|(conn, ch)| conn.status().connected() && ch.status().connected())
        });
        if up {
            Ok(())
        } else {
            Err("not connected to any vhost".to_owned())
        }
    }

    /// The vhosts that are configured but not connected, each with its
    /// tenants and why (readiness shows them; the other tenants publish).
    pub async fn degraded(&self) -> Option<String> {
        let state = self.state.lock().await;
        let down = self.down_map().clone();
        let missing: Vec<String> = (self.vhosts().into_iter())
            .filter(|v| {
                !state
                    .get(v)
                    .is_some_and(|(conn, ch)| conn.status().connected() && ch.status().connected())
            })
            .map(|v| {
                let why = down.get(&v).map_or("not connected yet", |d| d.error.as_str());
                format!(
                    "vhost {} ({why}) holds tenants {:?}",
                    shown_vhost(&v),
                    self.tenants_of(&v)
                )
            })
            .collect();
        (!missing.is_empty()).then(|| missing.join("; "))
    }

    /// Connects to `vhost` and declares the topology `tenants` would have
    /// there (exchanges, then their subscription queues), on a connection
    /// of its own, then closes it: what a reload checks, and prepares,
    /// before it swaps a new tenant set in.
    pub async fn probe_vhost(&self, vhost: &str, tenants: &[std::sync::Arc<Tenant>]) -> Result<(), String> {
        let result = async {
            let conn = self.connect_node(vhost, "hookgate-reload-check").await?;
            let ch = conn.create_channel().await?;
            let exchanges: Vec<String> = tenants.iter().map(|t| t.exchange.clone()).collect();
            let declared = declare_topology(&conn, &ch, &self.rabbit, &exchanges).await;
            if declared.is_ok() {
                // A queue that exists with other arguments is reported, as at
                // start, and does not refuse the reload.
                for tenant in tenants {
                    declare_subscriptions(&conn, tenant).await;
                }
            }
            let _ = conn.close(200, "checked".into()).await;
            declared
        }
        .await;
        result.map_err(|e| {
            format!(
                "vhost {} of tenants {:?} cannot be used: {}",
                shown_vhost(vhost),
                tenants.iter().map(|t| t.id.to_string()).collect::<Vec<_>>(),
                hookgate_core::Chain(&e)
            )
        })
    }

    /// The confirm channel of `vhost`, connecting and declaring if needed.
    async fn channel(&self, vhost: &str) -> Result<Channel, AmqpError> {
        let mut state = self.state.lock().await;
        if let Some((conn, ch)) = state.get(vhost) {
            if conn.status().connected() && ch.status().connected() {
                return Ok(ch.clone());
            }
            // Lost: start again from the next node.
            let nodes = self.rabbit.nodes().len().max(1);
            let next = (self.next_node.load(std::sync::atomic::Ordering::SeqCst) + 1) % nodes;
            self.next_node.store(next, std::sync::atomic::Ordering::SeqCst);
        }
        state.remove(vhost);
        let conn = self.connect_node(vhost, "hookgate-dispatcher").await?;
        let ch = conn.create_channel().await?;
        ch.confirm_select(ConfirmSelectOptions::default()).await?;
        let tenants: Vec<_> = self
            .tenants
            .load()
            .iter()
            .filter(|t| t.vhost.as_deref().unwrap_or("") == vhost)
            .cloned()
            .collect();
        let exchanges: Vec<String> = tenants.iter().map(|t| t.exchange.clone()).collect();
        declare_topology(&conn, &ch, &self.rabbit, &exchanges).await?;
        if vhost.is_empty() {
            declare_ops_exchange(&ch, &self.rabbit.ops_exchange).await?;
        }
        for tenant in &tenants {
            declare_subscriptions(&conn, tenant).await;
        }
        tracing::info!(
            vhost = if vhost.is_empty() { "(default)" } else { vhost },
            "connected to RabbitMQ, topology declared"
        );
        state.insert(vhost.to_owned(), (conn, ch.clone()));
        Ok(ch)
    }

    /// Declares the topology of the tenants as they are now (after a
    /// reload: exchanges and subscriptions of new tenants) on every open
    /// connection; vhosts not connected yet are declared when they are.
    /// Declaring is idempotent; what a reload removed is left in place.
    pub async fn redeclare(&self) -> Result<(), AmqpError> {
        let tenants = self.tenants.load();
        let state = self.state.lock().await;
        for (vhost, (conn, ch)) in state.iter() {
            let here: Vec<_> = tenants
                .iter()
                .filter(|t| t.vhost.as_deref().unwrap_or("") == vhost)
                .cloned()
                .collect();
            let exchanges: Vec<String> = here.iter().map(|t| t.exchange.clone()).collect();
            declare_topology(conn, ch, &self.rabbit, &exchanges).await?;
            for tenant in &here {
                declare_subscriptions(conn, tenant).await;
            }
        }
        drop(state);
        self.connect().await.map(|_| ())
    }

    /// Publishes a batch in order (one channel per vhost, so the broker keeps
    /// their order), then awaits every confirm. Returns one result per message.
    ///
    /// Every failure stays with what it concerns: a message the broker cannot
    /// take fails alone before anything is sent ([`Outgoing::check`]); a vhost
    /// that cannot be connected, or whose channel breaks, fails only its own
    /// messages (those not sent: [`AmqpError::NotSent`]), and only its
    /// connection is reset; the other vhosts' messages go out.
    pub async fn publish_all(&self, messages: &[Outgoing]) -> Vec<Result<(), AmqpError>> {
        let mut results: Vec<Option<Result<(), AmqpError>>> = (0..messages.len()).map(|_| None).collect();
        // Per vhost: its channel, or `None` once it failed in this batch.
        let mut channels: HashMap<&str, Option<Channel>> = HashMap::new();
        let mut broken: Vec<String> = Vec::new();
        let mut pending = Vec::with_capacity(messages.len());
        for (i, m) in messages.iter().enumerate() {
            // Never hand lapin a frame it cannot encode: that message fails alone.
            if let Err(e) = m.check() {
                results[i] = Some(Err(e));
                continue;
            }
            let vhost = m.vhost.as_deref().unwrap_or("");
            if !channels.contains_key(vhost) {
                let channel = match self.channel(vhost).await {
                    Ok(c) => Some(c),
                    Err(e) => {
                        tracing::warn!(vhost = shown_vhost(vhost), error = %hookgate_core::Chain(&e), "vhost unavailable; its messages of this batch fail");
                        broken.push(vhost.to_owned());
                        None
                    }
                };
                channels.insert(vhost, channel);
            }
            let Some(Some(channel)) = channels.get(vhost) else {
                results[i] = Some(Err(AmqpError::NotSent));
                continue;
            };
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
                Ok(c) => pending.push((i, c)),
                Err(e) => {
                    // This vhost's channel is unusable: its later messages fail,
                    // what was sent may still confirm, other vhosts go on.
                    tracing::warn!(vhost = shown_vhost(vhost), error = %hookgate_core::Chain(&e), "publish failed");
                    results[i] = Some(Err(AmqpError::Lapin(e)));
                    channels.insert(vhost, None);
                    broken.push(vhost.to_owned());
                }
            }
        }
        for (i, c) in pending {
            let r = match tokio::time::timeout(self.confirm_timeout, c).await {
                Err(_) => Err(AmqpError::ConfirmTimeout(self.confirm_timeout)),
                Ok(Err(e)) => Err(AmqpError::Lapin(e)),
                Ok(Ok(Confirmation::Ack(None))) => Ok(()),
                Ok(Ok(Confirmation::Ack(Some(ret)))) => Err(AmqpError::Returned(ret.reply_text.to_string())),
                Ok(Ok(Confirmation::Nack(_))) | Ok(Ok(Confirmation::NotRequested)) => Err(AmqpError::Nacked),
            };
            if r.as_ref().is_err_and(|e| !matches!(e, AmqpError::Returned(_))) {
                // A timeout, a channel error or a nack: start this vhost
                // clean next time. (A nack is the broker failing to store the
                // message; on a cluster, a channel opened while a quorum
                // queue's leader was down keeps nacking: a fresh one does not.)
                broken.push(messages[i].vhost.clone().unwrap_or_default());
            }
            results[i] = Some(r);
        }
        broken.sort();
        broken.dedup();
        if !broken.is_empty() {
            self.reset_vhosts(&broken).await;
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(AmqpError::NotSent)))
            .collect()
    }

    /// Publishes operator events (CloudEvents in structured mode) to the
    /// operator exchange, with confirms: `(id, routing key, body)` each. An
    /// event no queue is bound for counts as delivered (nobody listens; the
    /// transition stays in PostgreSQL).
    pub async fn publish_operator_events(&self, events: &[(String, String, Vec<u8>)]) -> Vec<Result<(), AmqpError>> {
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let messages: Vec<Outgoing> = events
            .iter()
            .map(|(id, routing_key, body)| Outgoing {
                exchange: self.rabbit.ops_exchange.clone(),
                routing_key: routing_key.clone(),
                body: body.clone(),
                message_id: id.clone(),
                message_type: format!("hookgate.incident.{routing_key}"),
                timestamp,
                headers: BTreeMap::from([("content-type".to_owned(), "application/cloudevents+json".to_owned())]),
                vhost: None,
            })
            .collect();
        self.publish_all(&messages)
            .await
            .into_iter()
            .map(|r| match r {
                Err(AmqpError::Returned(_)) => Ok(()),
                other => other,
            })
            .collect()
    }

    /// Closes every connection (at shutdown, after the relays stopped and
    /// before the database pool closes): the broker sees a clean close
    /// instead of a dropped socket, and nothing publishes after it.
    pub async fn close(&self) {
        let all: Vec<_> = self.state.lock().await.drain().collect();
        for (_, (conn, _)) in all {
            let _ = conn.close(200, "shutdown".into()).await;
        }
    }

    /// Forgets the connections of `vhosts` (after an error), so their next
    /// use reconnects; the other vhosts' connections are kept.
    pub async fn reset_vhosts(&self, vhosts: &[String]) {
        let old: Vec<_> = {
            let mut state = self.state.lock().await;
            vhosts.iter().filter_map(|v| state.remove(v)).collect()
        };
        for (conn, _) in old {
            let _ = conn.close(0, "reset".into()).await;
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
        let (conn, ch) = Self::connect(url).await?;
        declare_tenant_exchange(&ch, exchange, alternate).await?;
        Self::bind_exclusive(conn, ch, exchange, bindings).await
    }

    /// A subscription to the operator exchange (incident transitions), its
    /// queue exclusive to this connection.
    pub async fn operator_events(
        url: &str,
        ops_exchange: &str,
        bindings: &[String],
    ) -> Result<Subscription, AmqpError> {
        let (conn, ch) = Self::connect(url).await?;
        declare_ops_exchange(&ch, ops_exchange).await?;
        Self::bind_exclusive(conn, ch, ops_exchange, bindings).await
    }

    /// A connection of its own (named `hookgate-tail`) and its channel.
    async fn connect(url: &str) -> Result<(Connection, Channel), AmqpError> {
        let conn = Connection::connect(
            url,
            ConnectionProperties::default().with_connection_name("hookgate-tail".into()),
        )
        .await?;
        let ch = conn.create_channel().await?;
        Ok((conn, ch))
    }

    async fn bind_exclusive(
        conn: Connection,
        ch: Channel,
        exchange: &str,
        bindings: &[String],
    ) -> Result<Subscription, AmqpError> {
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
    #[cfg(feature = "test-support")]
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
#[cfg(feature = "test-support")]
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

/// Connects and declares a tenant's exchange and subscriptions as the
/// dispatcher would; returns the subscription problems found.
#[cfg(feature = "test-support")]
pub async fn declare_subscriptions_at(rabbit: &RabbitSettings, tenant: &Tenant) -> Result<Vec<String>, AmqpError> {
    let conn = Connection::connect(
        &vhost_url(rabbit.first_node(), tenant.vhost.as_deref()),
        ConnectionProperties::default(),
    )
    .await?;
    let ch = conn.create_channel().await?;
    declare_topology(&conn, &ch, rabbit, std::slice::from_ref(&tenant.exchange)).await?;
    let problems = declare_subscriptions(&conn, tenant).await;
    let _ = conn.close(200, "done".into()).await;
    Ok(problems)
}

/// Declares a durable classic queue (test setup).
#[cfg(feature = "test-support")]
pub async fn declare_classic_queue(url: &str, queue: &str) -> Result<(), AmqpError> {
    let conn = Connection::connect(url, ConnectionProperties::default()).await?;
    let ch = conn.create_channel().await?;
    ch.queue_declare(
        queue.into(),
        QueueDeclareOptions {
            durable: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await?;
    let _ = conn.close(200, "done".into()).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::vhost_url;

    #[test]
    fn vhost_urls_replace_the_path_and_encode() {
        let base = "amqp://guest:guest@127.0.0.1:5672/%2f";
        assert_eq!(vhost_url(base, None), base);
        assert_eq!(vhost_url(base, Some("acme")), "amqp://guest:guest@127.0.0.1:5672/acme");
        assert_eq!(vhost_url("amqp://h:5672", Some("a/b")), "amqp://h:5672/a%2Fb");
        assert_eq!(
            vhost_url("amqp://h/x?heartbeat=10", Some("v")),
            "amqp://h/v?heartbeat=10"
        );
    }
}
