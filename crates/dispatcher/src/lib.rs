//! The outbox relay: claims committed notifications, normalizes them into
//! canonical events, dedupes them in Redis and publishes them to the tenant's
//! RabbitMQ exchange with publisher confirms; only a confirmed publish marks a
//! notification published. Failures retry with backoff, then park.
//!
//! Architecture invariants: this is the only crate that names lapin and
//! redis; it meets the ingress only in the outbox table. A row is marked
//! published only after the broker confirmed every event of it.

pub mod amqp;
mod backoff;
pub mod cloudevents;
mod dedupe;
mod failure;
mod probes;
mod replay;
mod rounds;
mod stale;

pub use amqp::{AmqpError, Publisher, Received, Subscription};
pub use dedupe::{Decision, Dedupe};
pub use failure::{Disposition, RowFailure};
pub use probes::{RabbitProbe, RedisProbe, RelayProbe};
pub use replay::REPLAY_HEADER;

/// AMQP header of an event published marked stale (value `true`): its
/// subject had already published a later state (docs/events.md).
pub const STALE_HEADER: &str = "x-hookgate-stale";

/// Standard Webhooks headers of a signed message (a tenant with `[signing]`):
/// the event id, the signing time (Unix seconds) and the signatures over
/// `<id>.<timestamp>.<body>`.
pub const SIGNATURE_HEADERS: [&str; 3] = ["webhook-id", "webhook-timestamp", "webhook-signature"];

use futures_util::FutureExt;
use hookgate_config::{DispatcherSettings, LiveTenants};
use hookgate_proto::CanonicalEvent;
use hookgate_store::{Claimed, EventRecord, Store, StoreError};
use hookgate_telemetry::Metrics;
use rand::Rng;
use rounds::{Rounds, RowState};
use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
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
    /// Notifications given back untouched because an earlier event of their
    /// subject failed in this batch.
    pub released: usize,
    /// Events judged stale (their subject already published a later state).
    pub stale: usize,
}

/// Takes a relay loop off `hookgate_relay_loops` when it ends, also by a
/// panic. Whoever starts a loop counts it first ([`Dispatcher::starting`]),
/// so readiness never sees a loop that was started but not yet scheduled as
/// missing.
struct LoopGuard(Arc<Metrics>);

impl Drop for LoopGuard {
    fn drop(&mut self) {
        self.0.relay_loop_running(-1);
    }
}

/// The message of a caught panic, for the log.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text panic".to_owned())
}

/// The outbox relay.
#[derive(Debug)]
pub struct Dispatcher {
    store: Store,
    publisher: Arc<Publisher>,
    dedupe: Arc<Dedupe>,
    tenants: LiveTenants,
    metrics: Arc<Metrics>,
    settings: DispatcherSettings,
    owner: Uuid,
    /// Batch failures repeat every poll interval during an outage: logged
    /// with back-off.
    failures: backoff::LogBackoff,
}

/// One claimed row on its way through the batch.
struct Work {
    row: Claimed,
    events: Vec<(CanonicalEvent, EventRecord)>,
    failure: Option<RowFailure>,
    /// Subject states its events reach (the stale-state guard), recorded
    /// when the row is marked published.
    advances: Vec<hookgate_store::StateAdvance>,
    /// Its events judged stale, and the source's policy (counted when the
    /// row is concluded).
    stale: (u32, &'static str),
    /// `relay.row`: from claim to settlement, a child of the span of the
    /// request that stored the row (its `traceparent`); the published
    /// messages carry this span's context.
    span: tracing::Span,
}

impl Work {
    fn new(row: Claimed, events: Vec<(CanonicalEvent, EventRecord)>, failure: Option<RowFailure>) -> Work {
        let span = tracing::info_span!(
            "relay.row",
            notification.id = row.notification_id,
            tenant.id = %row.tenant,
            source.id = %row.source,
            attempts = row.attempts,
            outcome = tracing::field::Empty,
        );
        if let Some(tp) = &row.traceparent {
            hookgate_telemetry::set_parent(&span, tp, None);
        }
        Work {
            row,
            events,
            failure,
            advances: Vec::new(),
            stale: (0, ""),
            span,
        }
    }

    /// The row's state for the round scheduler.
    fn state(&self) -> RowState {
        match self.failure.as_ref().map(RowFailure::disposition) {
            None => RowState::Send,
            Some(Disposition::Park) => RowState::Parked,
            Some(Disposition::Retry) => RowState::Retry,
        }
    }
}

impl Dispatcher {
    /// Assembles a dispatcher; `owner` identifies its leases.
    pub fn new(
        store: Store,
        publisher: Arc<Publisher>,
        dedupe: Arc<Dedupe>,
        tenants: impl Into<LiveTenants>,
        metrics: Arc<Metrics>,
        settings: DispatcherSettings,
    ) -> Dispatcher {
        Dispatcher {
            store,
            publisher,
            dedupe,
            tenants: tenants.into(),
            metrics,
            settings,
            owner: Uuid::new_v4(),
            failures: backoff::LogBackoff::default(),
        }
    }

    /// Claims one batch and carries it as far as it goes: claim → prepare
    /// (normalize) → dedupe → publish rounds → settle. The relay loop
    /// ([`Dispatcher::run`]) calls it; tests call it to drain the outbox
    /// deterministically.
    ///
    /// Publishing runs in rounds (see `rounds.rs`): each round sends the next
    /// event of every subject in the batch, in commit order on one channel,
    /// and awaits all confirms. A subject whose event failed stops there; its
    /// later rows are released for a later batch, so events of one subject
    /// are never published out of order.
    #[tracing::instrument(name = "relay.batch", skip_all, fields(rows = tracing::field::Empty))]
    pub async fn try_once(&self) -> Result<Outcome, DispatchError> {
        // Connect before claiming: while the broker is down, rows stay pending
        // with their attempts untouched instead of marching towards parking.
        // A vhost that cannot be reached holds only its own tenants: their
        // rows are left pending, every other tenant's are claimed.
        let down = self.publisher.connect().await?;
        let held: Vec<String> = down.iter().flat_map(|v| self.publisher.tenants_of(v)).collect();
        let t0 = Instant::now();
        let rows = self.claim(&held).await?;
        let claimed_in = t0.elapsed();
        self.metrics.relay_claimed(rows.len());
        let mut outcome = Outcome {
            claimed: rows.len(),
            ..Outcome::default()
        };
        if rows.is_empty() {
            return Ok(outcome);
        }
        tracing::Span::current().record("rows", rows.len());
        let t1 = Instant::now();
        let mut work: Vec<Work> = rows.into_iter().map(|row| self.prepare(row)).collect();
        let normalized_in = t1.elapsed();
        let t2 = Instant::now();
        self.dedupe_batch(&mut work, &mut outcome).await?;
        outcome.stale = stale::guard(&self.store, &self.tenants, &mut work).await?;
        let deduped_in = t2.elapsed();
        let t3 = Instant::now();
        let released = self.publish_rounds(&mut work, &mut outcome).await;
        let published_in = t3.elapsed();
        let t4 = Instant::now();
        self.settle(&work, &released, &mut outcome).await?;
        tracing::debug!(
            rows = outcome.claimed,
            claim_ms = claimed_in.as_millis() as u64,
            normalize_ms = normalized_in.as_millis() as u64,
            dedupe_ms = deduped_in.as_millis() as u64,
            publish_ms = published_in.as_millis() as u64,
            settle_ms = t4.elapsed().as_millis() as u64,
            "batch timings"
        );
        Ok(outcome)
    }

    /// Claims up to `batch_size` rows under a lease, none of `held` tenants.
    async fn claim(&self, held: &[String]) -> Result<Vec<Claimed>, StoreError> {
        let lease = Duration::from_secs(self.settings.lease_secs);
        let limit = i64::from(self.settings.batch_size);
        self.store.claim_except(self.owner, lease, limit, held).await
    }

    /// Publishes the batch in rounds; returns the rows released untouched
    /// (behind a failed row of their subject).
    async fn publish_rounds(&self, work: &mut [Work], outcome: &mut Outcome) -> Vec<usize> {
        let mut rounds = Rounds::new(work.iter().map(|w| w.row.ordering_key.as_deref()));
        loop {
            let round = rounds.next(|i| work[i].state());
            if round.is_empty() {
                break;
            }
            for i in self.publish_round(work, &round, outcome).await {
                rounds.halt(i);
            }
        }
        rounds.released()
    }

    /// Concludes every claimed row: released rows go back untouched, failed
    /// ones are retried later or parked, confirmed ones are marked published
    /// with their event records.
    async fn settle(&self, work: &[Work], released: &[usize], outcome: &mut Outcome) -> Result<(), StoreError> {
        if !released.is_empty() {
            let ids: Vec<i64> = released.iter().map(|&i| work[i].row.notification_id).collect();
            self.store.release(self.owner, &ids).await?;
            outcome.released = ids.len();
        }
        let released: HashSet<usize> = released.iter().copied().collect();
        let mut done_ids = Vec::new();
        let mut done_events = Vec::new();
        let mut done_rows = Vec::new();
        for w in work
            .iter()
            .enumerate()
            .filter(|(i, _)| !released.contains(i))
            .map(|(_, w)| w)
        {
            let Some(failure) = &w.failure else {
                w.span.record("outcome", "published");
                done_ids.push(w.row.notification_id);
                done_events.extend(w.events.iter().map(|(_, r)| r.clone()));
                done_rows.push(w);
                stale::count(&self.metrics, w);
                continue;
            };
            let error = failure.message();
            let park =
                failure.disposition() == Disposition::Park || w.row.attempts >= self.settings.max_attempts as i32;
            let retry_in = self.backoff(w.row.attempts);
            self.store
                .mark_failed(self.owner, w.row.notification_id, &error, retry_in, park)
                .await?;
            w.span.record("outcome", if park { "parked" } else { "retry" });
            if park {
                stale::count(&self.metrics, w);
                outcome.parked += 1;
                self.metrics.parked(w.row.tenant.as_str());
                self.metrics.parked_reason(failure.reason());
                tracing::error!(notification.id = w.row.notification_id, attempts = w.row.attempts, error = %error, "notification parked");
            } else {
                outcome.retried += 1;
                self.metrics.publish_failure(w.row.tenant.as_str());
                tracing::warn!(notification.id = w.row.notification_id, attempts = w.row.attempts, ?retry_in, error = %error, "publish failed; will retry");
            }
        }
        if !done_ids.is_empty() {
            let states = stale::advances(done_rows.into_iter());
            let marked = self.mark_published(work, &done_ids, &done_events, &states).await?;
            outcome.published = marked as usize;
            if (marked as usize) < done_ids.len() {
                tracing::warn!(
                    lost = done_ids.len() - marked as usize,
                    "leases expired before completion; rows will be published again"
                );
            }
        }
        Ok(())
    }

    /// Decides every event of the batch in one dedupe call; duplicates are
    /// dropped from their row (the row still completes).
    async fn dedupe_batch(&self, work: &mut [Work], outcome: &mut Outcome) -> Result<(), DispatchError> {
        let records: Vec<EventRecord> = work
            .iter()
            .filter(|w| w.failure.is_none())
            .flat_map(|w| w.events.iter().map(|(_, r)| r.clone()))
            .collect();
        let mut decisions = self
            .dedupe
            .decide(&records, &self.store, &self.metrics)
            .await?
            .into_iter();
        for w in work.iter_mut().filter(|w| w.failure.is_none()) {
            let events = std::mem::take(&mut w.events);
            for (event, record) in events {
                if decisions.next() == Some(Decision::Duplicate) {
                    outcome.duplicates += 1;
                    self.metrics.dedupe_hit(record.tenant.as_str());
                    tracing::debug!(event.id = %record.event_id, key = %record.idempotency_key, "duplicate event skipped");
                } else {
                    w.events.push((event, record));
                }
            }
        }
        Ok(())
    }

    /// Publishes the events of the given rows in order and awaits every
    /// confirm; records failures on the rows and returns the rows to retry.
    async fn publish_round(&self, work: &mut [Work], rows: &[usize], outcome: &mut Outcome) -> Vec<usize> {
        let mut outgoing = Vec::new();
        let mut owners = Vec::new();
        for &i in rows {
            let w = &mut work[i];
            // All of a row's messages or none: a row never goes out in part.
            let messages: Result<Vec<_>, RowFailure> = w
                .events
                .iter()
                .map(|(event, record)| self.outgoing(w, event, record))
                .collect();
            match messages {
                Ok(messages) => {
                    owners.extend(std::iter::repeat_n(i, messages.len()));
                    outgoing.extend(messages);
                }
                Err(f) => w.failure = Some(f),
            }
        }
        let started = Instant::now();
        let results: Vec<Result<(), Arc<AmqpError>>> = if outgoing.is_empty() {
            Vec::new()
        } else {
            let results = self.publisher.publish_all(&outgoing).await;
            results.into_iter().map(|r| r.map_err(Arc::new)).collect()
        };
        let confirm_secs = started.elapsed().as_secs_f64();
        for ((result, &owner), m) in results.into_iter().zip(&owners).zip(&outgoing) {
            let w = &mut work[owner];
            match result {
                Ok(()) => {
                    outcome.events += 1;
                    self.metrics
                        .published(w.row.tenant.as_str(), &m.routing_key, confirm_secs);
                }
                // Refused for the message itself: the same every time, so it parks.
                Err(cause) if w.failure.is_none() && cause.is_permanent() => {
                    w.failure = Some(RowFailure::Unpublishable(cause))
                }
                Err(cause) if w.failure.is_none() => {
                    w.failure = Some(RowFailure::Publish {
                        routing_key: m.routing_key.clone(),
                        cause,
                    })
                }
                Err(_) => {}
            }
        }
        // A parked row holds nothing back; a row to retry holds its subject.
        rows.iter()
            .copied()
            .filter(|&i| work[i].state() == RowState::Retry)
            .collect()
    }

    /// Normalizes one claimed row; failures that retrying cannot fix park at once.
    fn prepare(&self, row: Claimed) -> Work {
        // Every claim counts an attempt and every handled failure parks at
        // `max_attempts`: a row claimed more often than that was never
        // concluded: the relay died (crash, kill, panic) while holding it.
        // Park it, so that one poisonous row cannot take the relay down forever.
        if row.attempts > self.settings.max_attempts as i32 {
            let failure = Some(RowFailure::Abandoned(row.attempts));
            return Work::new(row, Vec::new(), failure);
        }
        let Some(kind) = hookgate_providers::lookup(&row.kind).map(|p| p.kind()) else {
            let failure = Some(RowFailure::UnknownKind(row.kind.clone()));
            return Work::new(row, Vec::new(), failure);
        };
        let input = hookgate_providers::Input {
            tenant: row.tenant.as_str(),
            source: row.source.as_str(),
            kind,
            notification_id: row.notification_id,
            received_at: row.received_at,
            body: &row.body,
            delivery_key: &row.delivery_key,
            options: (self.options(row.tenant.as_str(), row.source.as_str())).with_stored(row.utc_offset_minutes),
        };
        match hookgate_providers::normalize(&input) {
            Ok(events) => {
                // Values left out of the typed data (each also in the event).
                let warnings = events.first().map_or(0, |e| e.event.warnings.len());
                if warnings > 0 {
                    self.metrics
                        .normalization_warnings(row.tenant.as_str(), row.source.as_str(), warnings as u64);
                }
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
                            stale_behind: None,
                        };
                        (e, record)
                    })
                    .collect();
                Work::new(row, events, None)
            }
            // A verified payload that cannot be parsed: park it for an operator.
            Err(e) => Work::new(row, Vec::new(), Some(RowFailure::Normalize(e))),
        }
    }

    /// Normalization options of a configured source (defaults when unknown).
    fn options(&self, tenant: &str, source: &str) -> hookgate_providers::Options {
        let tenants = self.tenants.load();
        let source = tenants.get(tenant).and_then(|t| t.source(source));
        source.map(|s| s.settings.options()).unwrap_or_default()
    }

    /// The AMQP message of one event. Encoding and AMQP limits depend only on
    /// the event, so their failures park; a tenant missing from the
    /// configuration may come back (reload), so that one retries.
    fn outgoing(
        &self,
        work: &Work,
        event: &CanonicalEvent,
        record: &EventRecord,
    ) -> Result<amqp::Outgoing, RowFailure> {
        let row = &work.row;
        let tenants = self.tenants.load();
        let tenant = tenants
            .get(row.tenant.as_str())
            .ok_or_else(|| RowFailure::UnknownTenant(row.tenant.clone()))?;
        let body = event.to_json().map_err(|e| RowFailure::Encode(Arc::new(e)))?;
        let e = &event.event;
        // The CloudEvents type is the event's own routing key, also when a
        // stale event is routed to `<key>.stale`.
        let event_type = event.routing_key();
        let mut headers = cloudevents::properties(event, &event_type);
        if e.stale {
            headers.insert(STALE_HEADER.to_owned(), "true".to_owned());
        }
        // The relay's span continues the request's trace to the consumer.
        if let Some(tp) = hookgate_telemetry::traceparent_of(&work.span).or_else(|| row.traceparent.clone()) {
            headers.insert("traceparent".to_owned(), tp);
        }
        // Signed last, over the exact body, so any consumer can prove the
        // message came from hookgate unaltered (a replay is signed anew).
        if let Some(signer) = &tenant.signing {
            let now = chrono::Utc::now().timestamp();
            let [id, timestamp, signature] = SIGNATURE_HEADERS;
            headers.insert(signature.to_owned(), signer.sign(&e.id, now, &body));
            headers.insert(id.to_owned(), e.id.clone());
            headers.insert(timestamp.to_owned(), now.to_string());
        }
        let message = amqp::Outgoing {
            exchange: tenant.exchange.clone(),
            routing_key: record.routing_key.clone(),
            body,
            message_id: e.id.clone(),
            message_type: event_type,
            timestamp: row.received_at.timestamp().max(0) as u64,
            headers,
            vhost: tenant.vhost.clone(),
        };
        message.check().map_err(|e| RowFailure::Unpublishable(Arc::new(e)))?;
        Ok(message)
    }

    /// Marks rows published with their event records in one transaction. If
    /// that transaction is refused for its content (not for an outage), each
    /// row is marked on its own, so one row cannot keep a whole batch (every
    /// tenant) from completing and being published again and again; a row
    /// whose event records are still refused is marked without them (it was
    /// published: marking it is what prevents duplicates).
    async fn mark_published(
        &self,
        work: &[Work],
        ids: &[i64],
        events: &[EventRecord],
        states: &[hookgate_store::StateAdvance],
    ) -> Result<u64, StoreError> {
        match self.store.mark_published(self.owner, ids, events, states).await {
            Ok(n) => Ok(n),
            Err(e) if e.is_unavailable() => Err(e),
            Err(e) => {
                tracing::error!(error = %hookgate_core::Chain(&e), rows = ids.len(), "marking the batch failed; marking row by row");
                let mut marked = 0;
                for w in work.iter().filter(|w| ids.contains(&w.row.notification_id)) {
                    let id = [w.row.notification_id];
                    let records: Vec<EventRecord> = w.events.iter().map(|(_, r)| r.clone()).collect();
                    marked += match self.store.mark_published(self.owner, &id, &records, &w.advances).await {
                        Ok(n) => n,
                        Err(e) if e.is_unavailable() => return Err(e),
                        Err(e) => {
                            tracing::error!(notification.id = w.row.notification_id, error = %hookgate_core::Chain(&e), "event records refused; marking the row published without them");
                            self.metrics.relay_error("event_record_refused");
                            self.store.mark_published(self.owner, &id, &[], &[]).await?
                        }
                    };
                }
                Ok(marked)
            }
        }
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

    /// Counts a loop about to be started with [`Dispatcher::run`] in
    /// `hookgate_relay_loops` (the loop takes itself off when it ends).
    pub fn starting(&self) {
        self.metrics.relay_loop_running(1);
    }

    /// Runs until `shutdown`: wakes on NOTIFY or every poll interval, drains
    /// while there is work. A batch in flight is finished before returning.
    ///
    /// A batch that fails or panics costs that batch only: it is counted
    /// (`hookgate_relay_errors_total`), the loop waits one poll interval and
    /// goes on. Rows of a panicked batch come back when their lease ends; a
    /// row that keeps being claimed without an outcome parks
    /// ([`Dispatcher::try_once`]), so no row can stop the relay for good.
    pub async fn run(&self, shutdown: CancellationToken) {
        let _running = LoopGuard(self.metrics.clone());
        let poll = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        let linger = Duration::from_millis(self.settings.linger_ms);
        let mut listener = None;
        // The last batch was full: a backlog, claimed again at once.
        let mut full = false;
        while !shutdown.is_cancelled() {
            if listener.is_none() {
                listener = self
                    .store
                    .listen()
                    .await
                    .map_err(|e| tracing::warn!(error = %hookgate_core::Chain(&e), "LISTEN failed; polling"))
                    .ok();
            }
            // Let the webhooks committing right now join this claim: one
            // claim, confirm round and settling transaction for all of them.
            if !full && !linger.is_zero() {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(linger) => {}
                }
            }
            full = false;
            match AssertUnwindSafe(self.try_once()).catch_unwind().await {
                Ok(Ok(o)) if o.claimed > 0 => {
                    if self.failures.succeeded() {
                        tracing::info!("relay batches succeed again");
                    }
                    tracing::debug!(?o, "batch done");
                    full = o.claimed >= self.settings.batch_size as usize;
                    continue;
                }
                Ok(Ok(_)) => {
                    if self.failures.succeeded() {
                        tracing::info!("relay batches succeed again");
                    }
                }
                Ok(Err(e)) => {
                    self.metrics.relay_error("batch_failed");
                    if let Some(quiet) = self.failures.failed() {
                        let hint = match &e {
                            DispatchError::Broker(_) => " (setting rabbitmq.url)",
                            DispatchError::Store(_) => " (setting database.url)",
                        };
                        tracing::warn!(error = %hookgate_core::Chain(&e), not_logged_since = quiet, "dispatch batch failed{hint}; retrying with back-off of the log");
                    }
                }
                Err(panic) => {
                    self.metrics.relay_error("panic");
                    tracing::error!(
                        panic = panic_message(&panic),
                        "dispatch batch panicked; its rows return when their lease ends"
                    );
                }
            }
            if !wait_for_work(&mut listener, poll, &shutdown).await {
                break;
            }
        }
        tracing::info!("dispatcher stopped");
    }
}

/// Waits for a wake-up from `listener`, or `poll`; `false` once `shutdown`
/// is cancelled. A listener whose connection is lost is dropped (the
/// caller opens it again; meanwhile it polls).
pub(crate) async fn wait_for_work(
    listener: &mut Option<hookgate_store::ChangeListener>,
    poll: Duration,
    shutdown: &CancellationToken,
) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = tokio::time::sleep(poll) => true,
        woke = async {
            match listener.as_mut() {
                Some(l) => l.wait().await,
                None => std::future::pending().await,
            }
        } => {
            if let Err(e) = woke {
                tracing::warn!(error = %hookgate_core::Chain(&e), "LISTEN connection lost; polling until it is back");
                *listener = None;
            }
            true
        }
    }
}
