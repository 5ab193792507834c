//! The outbox relay: claims committed notifications, normalizes them into
//! canonical events, dedupes them in Redis and publishes them to the tenant's
//! RabbitMQ exchange with publisher confirms; only a confirmed publish marks a
//! notification published. Failures retry with backoff, then park.
//!
//! Architecture invariants: this is the only crate that names lapin and
//! redis; it meets the ingress only in the outbox table. A row is marked
//! published only after the broker confirmed every event of it.

pub mod amqp;
mod dedupe;
mod probes;

pub use amqp::{AmqpError, Publisher, Received, Subscription};
pub use dedupe::{Decision, Dedupe};
pub use probes::{RabbitProbe, RedisProbe};

use hookgate_config::{DispatcherSettings, SourceAuth, Tenants};
use hookgate_core::SourceKind;
use hookgate_proto::CanonicalEvent;
use hookgate_store::{Claimed, EventRecord, Store, StoreError};
use hookgate_telemetry::Metrics;
use rand::Rng;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// A relay failure that stops one batch (the loop retries).
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// RabbitMQ is unreachable: nothing was claimed, no attempt was spent.
    #[error(transparent)]
    Broker(#[from] AmqpError),
}

/// What one [`Dispatcher::try_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Notifications claimed.
    pub claimed: usize,
    /// Notifications marked published.
    pub published: usize,
    /// Events confirmed by the broker.
    pub events: usize,
    /// Events skipped as duplicates.
    pub duplicates: usize,
    /// Notifications given back for a retry.
    pub retried: usize,
    /// Notifications parked.
    pub parked: usize,
}

/// The outbox relay.
#[derive(Debug)]
pub struct Dispatcher {
    store: Store,
    publisher: Arc<Publisher>,
    dedupe: Arc<Dedupe>,
    tenants: Tenants,
    metrics: Arc<Metrics>,
    settings: DispatcherSettings,
    owner: Uuid,
}

/// One claimed row on its way through the batch.
struct Work {
    row: Claimed,
    events: Vec<(CanonicalEvent, EventRecord)>,
    failure: Option<(String, bool)>,
}

impl Dispatcher {
    /// Assembles a dispatcher; `owner` identifies its leases.
    pub fn new(
        store: Store,
        publisher: Arc<Publisher>,
        dedupe: Arc<Dedupe>,
        tenants: Tenants,
        metrics: Arc<Metrics>,
        settings: DispatcherSettings,
    ) -> Dispatcher {
        Dispatcher {
            store,
            publisher,
            dedupe,
            tenants,
            metrics,
            settings,
            owner: Uuid::new_v4(),
        }
    }

    /// Claims one batch and carries it as far as it goes. Tests call this to
    /// drain the outbox deterministically; [`Dispatcher::run`] loops on it.
    pub async fn try_once(&self) -> Result<Outcome, DispatchError> {
        // Connect before claiming: while the broker is down, rows stay pending
        // with their attempts untouched instead of marching towards parking.
        self.publisher.connect().await?;
        let lease = Duration::from_secs(self.settings.lease_secs);
        let rows = self
            .store
            .claim(self.owner, lease, i64::from(self.settings.batch_size))
            .await?;
        let mut outcome = Outcome {
            claimed: rows.len(),
            ..Outcome::default()
        };
        if rows.is_empty() {
            return Ok(outcome);
        }
        let mut work: Vec<Work> = rows.into_iter().map(|row| self.prepare(row)).collect();

        // Dedupe every event of the batch at once.
        let records: Vec<EventRecord> = work
            .iter()
            .filter(|w| w.failure.is_none())
            .flat_map(|w| w.events.iter().map(|(_, r)| r.clone()))
            .collect();
        let decisions = self.dedupe.decide(&records, &self.store, &self.metrics).await?;
        let mut decisions = decisions.into_iter();

        // Publish the survivors in commit order on one channel.
        let mut outgoing = Vec::new();
        let mut owners = Vec::new(); // index into `work` of each outgoing message
        for (i, w) in work.iter_mut().enumerate() {
            if w.failure.is_some() {
                continue;
            }
            let mut kept = Vec::with_capacity(w.events.len());
            for (event, record) in std::mem::take(&mut w.events) {
                if decisions.next() == Some(Decision::Duplicate) {
                    outcome.duplicates += 1;
                    self.metrics.dedupe_hit(&record.tenant);
                    tracing::debug!(event.id = %record.event_id, key = %record.idempotency_key, "duplicate event skipped");
                    continue;
                }
                match self.outgoing(&w.row, &event, &record) {
                    Ok(m) => {
                        outgoing.push(m);
                        owners.push(i);
                        kept.push((event, record));
                    }
                    Err(e) => w.failure = Some((e, false)),
                }
            }
            w.events = kept;
        }
        let started = Instant::now();
        let results = if outgoing.is_empty() {
            Vec::new()
        } else {
            match self.publisher.publish_all(&outgoing).await {
                Ok(r) => r.into_iter().map(|r| r.map_err(|e| e.to_string())).collect(),
                Err(e) => {
                    self.publisher.reset().await;
                    let e = e.to_string();
                    outgoing.iter().map(|_| Err(e.clone())).collect()
                }
            }
        };
        let confirm_secs = started.elapsed().as_secs_f64();
        for ((result, &owner), m) in results.into_iter().zip(&owners).zip(&outgoing) {
            let w = &mut work[owner];
            match result {
                Ok(()) => {
                    outcome.events += 1;
                    self.metrics.published(&w.row.tenant, &m.routing_key, confirm_secs);
                }
                Err(e) if w.failure.is_none() => w.failure = Some((format!("publish {}: {e}", m.routing_key), false)),
                Err(_) => {}
            }
        }

        // Mark confirmed rows published (with their events), give the rest back.
        let mut done_ids = Vec::new();
        let mut done_events = Vec::new();
        for w in &work {
            match &w.failure {
                None => {
                    done_ids.push(w.row.notification_id);
                    done_events.extend(w.events.iter().map(|(_, r)| r.clone()));
                }
                Some((error, park_now)) => {
                    let park = *park_now || w.row.attempts >= self.settings.max_attempts as i32;
                    let retry_in = self.backoff(w.row.attempts);
                    self.store
                        .mark_failed(self.owner, w.row.notification_id, error, retry_in, park)
                        .await?;
                    if park {
                        outcome.parked += 1;
                        self.metrics.parked(&w.row.tenant);
                        tracing::error!(notification.id = w.row.notification_id, attempts = w.row.attempts, %error, "notification parked");
                    } else {
                        outcome.retried += 1;
                        self.metrics.publish_failure(&w.row.tenant);
                        tracing::warn!(notification.id = w.row.notification_id, attempts = w.row.attempts, ?retry_in, %error, "publish failed; will retry");
                    }
                }
            }
        }
        if !done_ids.is_empty() {
            let marked = self.store.mark_published(self.owner, &done_ids, &done_events).await?;
            outcome.published = marked as usize;
            if (marked as usize) < done_ids.len() {
                tracing::warn!(
                    lost = done_ids.len() - marked as usize,
                    "leases expired before completion; rows will be published again"
                );
            }
        }
        Ok(outcome)
    }

    /// Normalizes one claimed row; failures that retrying cannot fix park at once.
    fn prepare(&self, row: Claimed) -> Work {
        let Some(kind) = SourceKind::parse(&row.kind) else {
            let failure = Some((format!("unknown source kind {:?}", row.kind), true));
            return Work {
                row,
                events: Vec::new(),
                failure,
            };
        };
        let input = hookgate_normalizer::Input {
            tenant: &row.tenant,
            source: &row.source,
            kind,
            notification_id: row.notification_id,
            received_at: row.received_at,
            body: &row.body,
            delivery_key: &row.delivery_key,
            options: self.options(&row.tenant, &row.source),
        };
        match hookgate_normalizer::normalize(&input) {
            Ok(events) => {
                let events = events
                    .into_iter()
                    .map(|e| {
                        let record = EventRecord {
                            event_id: e.event.id.parse().unwrap_or_else(|_| Uuid::nil()),
                            tenant: row.tenant.clone(),
                            idempotency_key: e.event.idempotency_key.clone(),
                            notification_id: row.notification_id,
                            event_type: e.event.r#type.clone(),
                            routing_key: e.routing_key(),
                        };
                        (e, record)
                    })
                    .collect();
                Work {
                    row,
                    events,
                    failure: None,
                }
            }
            // A verified payload that cannot be parsed: park it for an operator.
            Err(e) => Work {
                row,
                events: Vec::new(),
                failure: Some((format!("normalize: {e}"), true)),
            },
        }
    }

    /// Normalization options of a configured source (defaults when unknown).
    fn options(&self, tenant: &str, source: &str) -> hookgate_normalizer::Options {
        let tenant = self.tenants.get(tenant);
        match tenant.and_then(|t| t.source(source)).map(|s| &s.auth) {
            Some(SourceAuth::PagsmileIssuing(p)) => hookgate_normalizer::Options {
                utc_offset_minutes: p.timestamp_utc_offset_minutes,
            },
            _ => hookgate_normalizer::Options::default(),
        }
    }

    fn outgoing(&self, row: &Claimed, event: &CanonicalEvent, record: &EventRecord) -> Result<amqp::Outgoing, String> {
        let tenant = self
            .tenants
            .get(&row.tenant)
            .ok_or_else(|| format!("tenant {} is not configured", row.tenant))?;
        let body = event.to_json().map_err(|e| format!("encode event: {e}"))?;
        let e = &event.event;
        // CloudEvents AMQP protocol binding, binary mode: attributes as
        // `cloudEvents:`-prefixed application properties
        // (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/amqp-protocol-binding.md).
        let mut headers = BTreeMap::new();
        headers.insert("cloudEvents:specversion".to_owned(), "1.0".to_owned());
        headers.insert("cloudEvents:id".to_owned(), e.id.clone());
        headers.insert(
            "cloudEvents:source".to_owned(),
            format!("/hookgate/{}/{}", e.tenant, e.source),
        );
        headers.insert("cloudEvents:type".to_owned(), record.routing_key.clone());
        headers.insert("cloudEvents:subject".to_owned(), e.subject.clone());
        if let Some(t) = e.occurred_at.as_ref().or(e.received_at.as_ref()) {
            if let Some(time) = chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32) {
                headers.insert(
                    "cloudEvents:time".to_owned(),
                    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                );
            }
        }
        if let Some(tp) = &row.traceparent {
            headers.insert("traceparent".to_owned(), tp.clone());
        }
        Ok(amqp::Outgoing {
            exchange: tenant.exchange.clone(),
            routing_key: record.routing_key.clone(),
            body,
            message_id: e.id.clone(),
            message_type: record.routing_key.clone(),
            timestamp: row.received_at.timestamp().max(0) as u64,
            headers,
        })
    }

    /// `base * 2^(attempts-1)`, capped, with ±20% jitter.
    fn backoff(&self, attempts: i32) -> Duration {
        let exp = attempts.clamp(1, 30) as u32 - 1;
        let ms = self
            .settings
            .backoff_base_ms
            .saturating_mul(1u64 << exp.min(20))
            .min(self.settings.backoff_max_ms);
        let jitter = rand::rng().random_range(0.8..1.2);
        Duration::from_millis((ms as f64 * jitter) as u64)
    }

    /// Runs until `shutdown`: wakes on NOTIFY or every poll interval, drains
    /// while there is work. A batch in flight is finished before returning.
    pub async fn run(self, shutdown: CancellationToken) {
        let poll = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        let mut listener = None;
        while !shutdown.is_cancelled() {
            if listener.is_none() {
                listener = self
                    .store
                    .listen()
                    .await
                    .map_err(|e| tracing::warn!(error = %e, "LISTEN failed; polling"))
                    .ok();
            }
            match self.try_once().await {
                Ok(o) if o.claimed > 0 => {
                    tracing::debug!(?o, "batch done");
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "dispatch batch failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(poll) => {}
                woke = async {
                    match listener.as_mut() {
                        Some(l) => l.wait().await,
                        None => std::future::pending().await,
                    }
                } => {
                    if let Err(e) = woke {
                        tracing::warn!(error = %e, "LISTEN connection lost; polling until it is back");
                        listener = None;
                    }
                }
            }
        }
        tracing::info!("dispatcher stopped");
    }
}
