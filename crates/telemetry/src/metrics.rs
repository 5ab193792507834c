//! Prometheus metrics, rendered by the operations listener's `/metrics` in
//! the OpenMetrics or the Prometheus 0.0.4 text format.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    tenant: String,
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StaleLabels {
    tenant: String,
    source: String,
    policy: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AcceptLabels {
    tenant: String,
    source: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RejectLabels {
    tenant: String,
    source: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TenantLabels {
    tenant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VhostLabels {
    vhost: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DependencyLabels {
    dependency: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransitionLabels {
    kind: &'static str,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// Most distinct routing keys a tenant gets as label values; later ones are
/// counted as [`OTHER_ROUTING_KEYS`]. Routing keys carry payload text
/// (Standard Webhooks `type`, Pagsmile statuses), so a sender could otherwise
/// create series without end.
pub const MAX_ROUTING_KEY_LABELS: usize = 200;
/// Label value of routing keys beyond [`MAX_ROUTING_KEY_LABELS`].
pub const OTHER_ROUTING_KEYS: &str = "_other";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PublishLabels {
    tenant: String,
    routing_key: String,
}

/// How an accepted webhook was stored.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    /// New notification.
    New,
    /// Redelivery of a stored one.
    Duplicate,
}

/// Every hookgate metric. Labels use the tenant and source ids from
/// configuration only (unknown path segments are counted as `unknown`), so
/// cardinality is bounded by configuration.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    received: Family<SourceLabels, Counter>,
    accepted: Family<AcceptLabels, Counter>,
    rejected: Family<RejectLabels, Counter>,
    heartbeats: Family<SourceLabels, Counter>,
    unverified: Family<SourceLabels, Counter>,
    commit_seconds: Histogram,
    outbox_pending: Gauge,
    outbox_parked: Gauge,
    outbox_oldest: Gauge<f64, AtomicU64>,
    published: Family<PublishLabels, Counter>,
    dedupe_hits: Family<TenantLabels, Counter>,
    dedupe_fallbacks: Counter,
    publish_failures: Family<TenantLabels, Counter>,
    parked: Family<TenantLabels, Counter>,
    publish_seconds: Histogram,
    resident_memory: Gauge,
    relay_errors: Family<ReasonLabels, Counter>,
    parked_reasons: Family<ReasonLabels, Counter>,
    config_reloads: Family<ReasonLabels, Counter>,
    normalization_warnings: Family<SourceLabels, Counter>,
    stale_events: Family<StaleLabels, Counter>,
    relay_loops: Gauge,
    relay_claims: Family<OutcomeLabels, Counter>,
    relay_claim_rows: Histogram,
    budget_refusals: Family<ReasonLabels, Counter>,
    rejections_unrecorded: Family<RejectLabels, Counter>,
    rejection_bytes: Family<SourceLabels, Counter>,
    onboarding_refused: Family<SourceLabels, Counter>,
    spooled: Family<SourceLabels, Counter>,
    spool_entries: Gauge,
    spool_bytes: Gauge,
    spool_age: Gauge<f64, AtomicU64>,
    spool_drained: Counter,
    spool_full: Counter,
    spool_cut_bytes: Counter,
    spool_set_aside: Counter,
    vhost_up: Family<VhostLabels, Gauge>,
    dependency_up: Family<DependencyLabels, Gauge>,
    admin_refusals: Family<ReasonLabels, Counter>,
    source_since_accepted: Family<SourceLabels, Gauge<f64, AtomicU64>>,
    source_quiet: Family<SourceLabels, Gauge>,
    source_refused: Family<SourceLabels, Gauge>,
    incidents_active: Family<KindLabels, Gauge>,
    incident_transitions: Family<TransitionLabels, Counter>,
    watch_rounds: Family<OutcomeLabels, Counter>,
    traffic: crate::traffic::Traffic,
    routing_keys: std::sync::Mutex<std::collections::HashMap<String, std::collections::HashSet<String>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn source(tenant: &str, source: &str) -> SourceLabels {
    SourceLabels {
        tenant: tenant.to_owned(),
        source: source.to_owned(),
    }
}

fn tenant(t: &str) -> TenantLabels {
    TenantLabels { tenant: t.to_owned() }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("hookgate");
        let m = Metrics {
            received: Family::default(),
            accepted: Family::default(),
            rejected: Family::default(),
            heartbeats: Family::default(),
            unverified: Family::default(),
            commit_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            outbox_pending: Gauge::default(),
            outbox_parked: Gauge::default(),
            outbox_oldest: Gauge::default(),
            published: Family::default(),
            dedupe_hits: Family::default(),
            dedupe_fallbacks: Counter::default(),
            publish_failures: Family::default(),
            parked: Family::default(),
            publish_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            resident_memory: Gauge::default(),
            relay_errors: Family::default(),
            parked_reasons: Family::default(),
            config_reloads: Family::default(),
            normalization_warnings: Family::default(),
            stale_events: Family::default(),
            relay_loops: Gauge::default(),
            relay_claims: Family::default(),
            relay_claim_rows: Histogram::new([1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0]),
            budget_refusals: Family::default(),
            rejections_unrecorded: Family::default(),
            rejection_bytes: Family::default(),
            onboarding_refused: Family::default(),
            spooled: Family::default(),
            spool_entries: Gauge::default(),
            spool_bytes: Gauge::default(),
            spool_age: Gauge::default(),
            spool_drained: Counter::default(),
            spool_full: Counter::default(),
            spool_cut_bytes: Counter::default(),
            spool_set_aside: Counter::default(),
            source_since_accepted: Family::default(),
            source_quiet: Family::default(),
            source_refused: Family::default(),
            incidents_active: Family::default(),
            incident_transitions: Family::default(),
            watch_rounds: Family::default(),
            vhost_up: Family::default(),
            dependency_up: Family::default(),
            admin_refusals: Family::default(),
            traffic: crate::traffic::Traffic::default(),
            routing_keys: Default::default(),
            registry: Registry::default(),
        };
        registry.register("webhooks_received", "Webhook requests received", m.received.clone());
        registry.register(
            "webhooks_accepted",
            "Webhooks committed and acknowledged",
            m.accepted.clone(),
        );
        registry.register("webhooks_rejected", "Webhooks refused, by reason", m.rejected.clone());
        registry.register("heartbeats", "Provider heartbeats answered", m.heartbeats.clone());
        registry.register(
            "webhooks_unverified",
            "Webhooks accepted without a matching signature (observe mode)",
            m.unverified.clone(),
        );
        registry.register(
            "commit_seconds",
            "Time to commit a notification and its outbox row",
            m.commit_seconds.clone(),
        );
        registry.register(
            "outbox_pending",
            "Notifications waiting to be published",
            m.outbox_pending.clone(),
        );
        registry.register(
            "outbox_parked",
            "Notifications parked after max attempts",
            m.outbox_parked.clone(),
        );
        registry.register(
            "outbox_oldest_pending_seconds",
            "Age of the oldest pending notification",
            m.outbox_oldest.clone(),
        );
        registry.register("events_published", "Events confirmed by RabbitMQ", m.published.clone());
        registry.register("dedupe_hits", "Events suppressed as duplicates", m.dedupe_hits.clone());
        registry.register(
            "dedupe_fallbacks",
            "Dedupe decisions taken by PostgreSQL because Redis failed",
            m.dedupe_fallbacks.clone(),
        );
        registry.register(
            "publish_failures",
            "Notifications whose publish failed (will retry)",
            m.publish_failures.clone(),
        );
        registry.register("notifications_parked", "Notifications parked", m.parked.clone());
        registry.register(
            "publish_seconds",
            "Time from publish to broker confirm",
            m.publish_seconds.clone(),
        );
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of this process",
            m.resident_memory.clone(),
        );
        registry.register(
            "relay_errors",
            "Relay failures outside a single row (batch errors, panics, restarts), by reason",
            m.relay_errors.clone(),
        );
        registry.register(
            "parked_reasons",
            "Notifications parked, by reason (e.g. unparseable_payload, encrypted_payload_unsupported)",
            m.parked_reasons.clone(),
        );
        registry.register(
            "normalization_warnings",
            "Payload values left out of typed event data because they did not fit (each also in the event's warnings)",
            m.normalization_warnings.clone(),
        );
        registry.register(
            "stale_events",
            "Events whose state came before one their subject had already published (the stale-state guard), by the source's policy",
            m.stale_events.clone(),
        );
        registry.register("relay_loops", "Relay loops running", m.relay_loops.clone());
        registry.register(
            "relay_claims",
            "Outbox claims of the relay loops, by outcome (rows, empty)",
            m.relay_claims.clone(),
        );
        registry.register(
            "relay_claim_rows",
            "Rows per claim that found some (low values under load: the relay wakes too eagerly)",
            m.relay_claim_rows.clone(),
        );
        registry.register(
            "config_reloads",
            "Reloads of the tenant files, by outcome (applied, unchanged, invalid)",
            m.config_reloads.clone(),
        );
        registry.register(
            "ingress_budget_refusals",
            "Webhook requests shed because a budget was spent, by budget (peer_requests, peer_bytes, source_bytes, process_bytes)",
            m.budget_refusals.clone(),
        );
        registry.register(
            "rejections_unrecorded",
            "Refused requests counted but not stored as a rejection row (unknown tenant, beyond the rate of a source and cause)",
            m.rejections_unrecorded.clone(),
        );
        registry.register(
            "rejection_body_bytes",
            "Body bytes stored with rejection rows, by source",
            m.rejection_bytes.clone(),
        );
        registry.register(
            "webhooks_spooled",
            "Verified webhooks answered from the local spool (PostgreSQL unreachable, or the spool not yet drained), by source",
            m.spooled.clone(),
        );
        registry.register(
            "spool_entries",
            "Entries in the local spool waiting to be drained into PostgreSQL",
            m.spool_entries.clone(),
        );
        registry.register("spool_bytes", "Bytes of the local spool", m.spool_bytes.clone());
        registry.register(
            "spool_oldest_age_seconds",
            "Age of the oldest entry in the local spool (0 when empty)",
            m.spool_age.clone(),
        );
        registry.register(
            "spool_drained",
            "Spool entries committed to PostgreSQL",
            m.spool_drained.clone(),
        );
        registry.register(
            "spool_full",
            "Requests answered 503 because the spool was full (spool.max_bytes)",
            m.spool_full.clone(),
        );
        registry.register(
            "spool_set_aside",
            "Spool entries this build could not read, kept in the spool's unreadable.journal instead of drained",
            m.spool_set_aside.clone(),
        );
        registry.register(
            "spool_cut_bytes",
            "Bytes cut off the spool's segments when it was opened (a torn or corrupted record and what followed it; never replayed)",
            m.spool_cut_bytes.clone(),
        );
        registry.register(
            "webhooks_refused_onboarding",
            "Refusals at a source no delivery has verified yet (its recipe unproven), by source: each kept whole within http.rejection_onboarding_body_bytes",
            m.onboarding_refused.clone(),
        );
        registry.register(
            "vhost_up",
            "Whether the dispatcher holds an open publishing connection to a RabbitMQ vhost (1) or not (0)",
            m.vhost_up.clone(),
        );
        registry.register(
            "dependency_up",
            "Whether the evaluator of watchfulness reached a dependency at its last round (postgresql, rabbitmq, redis: 1 up, 0 down)",
            m.dependency_up.clone(),
        );
        registry.register(
            "admin_refusals",
            "Admin API requests refused for their caller's rights, by reason (e.g. replay_queue, global_route)",
            m.admin_refusals.clone(),
        );
        registry.register(
            "source_seconds_since_accepted",
            "Seconds since the source's last accepted webhook (since the process start when none is known); every configured source has a series from the start",
            m.source_since_accepted.clone(),
        );
        registry.register(
            "source_quiet",
            "Whether the source is quiet by its cadence (quiet_after) or its learned baseline (1) or not (0)",
            m.source_quiet.clone(),
        );
        registry.register(
            "source_refused",
            "Whether everything the source sends is refused by one cause (1) or not (0)",
            m.source_refused.clone(),
        );
        registry.register(
            "incidents_active",
            "Incidents open or acknowledged, by kind",
            m.incidents_active.clone(),
        );
        registry.register(
            "incident_transitions",
            "Incident transitions this process's evaluator or operators made, by kind and state",
            m.incident_transitions.clone(),
        );
        registry.register(
            "watch_rounds",
            "Evaluator rounds, by outcome (evaluated; skipped: another process held the lock; failed)",
            m.watch_rounds.clone(),
        );
        Metrics { registry, ..m }
    }

    /// A source's health as the last round judged it.
    pub fn source_health(&self, t: &str, s: &str, since_accepted: f64, quiet: bool, refused: bool) {
        let l = source(t, s);
        self.source_since_accepted.get_or_create(&l).set(since_accepted);
        self.source_quiet.get_or_create(&l).set(i64::from(quiet));
        self.source_refused.get_or_create(&l).set(i64::from(refused));
    }
    /// A source is no longer configured: its series go.
    pub fn forget_source(&self, t: &str, s: &str) {
        let l = source(t, s);
        self.source_since_accepted.remove(&l);
        self.source_quiet.remove(&l);
        self.source_refused.remove(&l);
    }
    /// Active incidents of a kind.
    pub fn incidents_active(&self, kind: &'static str, n: i64) {
        self.incidents_active.get_or_create(&KindLabels { kind }).set(n);
    }
    /// An incident moved to `state`.
    pub fn incident_transition(&self, kind: &'static str, state: &'static str) {
        self.incident_transitions
            .get_or_create(&TransitionLabels { kind, state })
            .inc();
    }
    /// Creates the series of a kind and state (at zero) without counting.
    pub fn incident_transition_seen(&self, kind: &'static str, state: &'static str) {
        let _ = self
            .incident_transitions
            .get_or_create(&TransitionLabels { kind, state });
    }
    /// One evaluator round, by outcome.
    pub fn watch_round(&self, outcome: &'static str) {
        self.watch_rounds.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    /// A webhook request was shed because `budget` was spent.
    pub fn budget_refused(&self, budget: &str) {
        self.budget_refusals
            .get_or_create(&ReasonLabels { reason: budget.into() })
            .inc();
    }
    /// Requests shed so far for `budget`.
    pub fn budget_refusal_count(&self, budget: &str) -> u64 {
        self.budget_refusals
            .get(&ReasonLabels { reason: budget.into() })
            .map_or(0, |c| c.get())
    }
    /// A refusal counted but not stored as a row.
    pub fn rejection_unrecorded(&self, t: &str, s: &str, reason: &str) {
        self.rejections_unrecorded
            .get_or_create(&RejectLabels {
                tenant: t.into(),
                source: s.into(),
                reason: reason.into(),
            })
            .inc();
    }
    /// Refusals not stored so far.
    pub fn rejection_unrecorded_count(&self, t: &str, s: &str, reason: &str) -> u64 {
        self.rejections_unrecorded
            .get(&RejectLabels {
                tenant: t.into(),
                source: s.into(),
                reason: reason.into(),
            })
            .map_or(0, |c| c.get())
    }
    /// `n` body bytes stored with a rejection row of a source.
    pub fn rejection_body_stored(&self, t: &str, s: &str, n: u64) {
        self.rejection_bytes.get_or_create(&source(t, s)).inc_by(n);
    }
    /// A webhook answered from the spool.
    pub fn spooled(&self, t: &str, s: &str) {
        self.spooled.get_or_create(&source(t, s)).inc();
    }
    /// Webhooks answered from the spool so far.
    pub fn spooled_count(&self, t: &str, s: &str) -> u64 {
        self.spooled.get(&source(t, s)).map_or(0, |c| c.get())
    }
    /// The spool's depth and the age of its oldest entry.
    pub fn spool(&self, entries: u64, bytes: u64, oldest_age_secs: f64) {
        self.spool_entries.set(i64::try_from(entries).unwrap_or(i64::MAX));
        self.spool_bytes.set(i64::try_from(bytes).unwrap_or(i64::MAX));
        self.spool_age.set(oldest_age_secs);
    }
    /// Spool entries committed.
    pub fn spool_drained(&self, n: u64) {
        self.spool_drained.inc_by(n);
    }
    /// A request refused because the spool was full.
    pub fn spool_full(&self) {
        self.spool_full.inc();
    }
    /// Bytes cut off the spool when it was opened.
    pub fn spool_cut(&self, bytes: u64) {
        self.spool_cut_bytes.inc_by(bytes);
    }
    /// A spool entry set aside (unreadable by this build).
    pub fn spool_set_aside(&self) {
        self.spool_set_aside.inc();
    }
    /// Spool entries set aside so far.
    pub fn spool_set_aside_count(&self) -> u64 {
        self.spool_set_aside.get()
    }
    /// Bytes cut off the spool so far.
    pub fn spool_cut_count(&self) -> u64 {
        self.spool_cut_bytes.get()
    }
    /// Spool entries committed so far.
    pub fn spool_drained_count(&self) -> u64 {
        self.spool_drained.get()
    }

    /// A refusal at a source no delivery has verified yet.
    pub fn refused_onboarding(&self, t: &str, s: &str) {
        self.onboarding_refused.get_or_create(&source(t, s)).inc();
    }
    /// Refusals at a source while it was onboarding, so far.
    pub fn refused_onboarding_count(&self, t: &str, s: &str) -> u64 {
        self.onboarding_refused.get(&source(t, s)).map_or(0, |c| c.get())
    }
    /// Whether the dispatcher is connected to `vhost` (`(default)` for the URL's).
    pub fn vhost_connected(&self, vhost: &str, up: bool) {
        self.vhost_up
            .get_or_create(&VhostLabels { vhost: vhost.into() })
            .set(i64::from(up));
    }
    /// Whether the evaluator reached `dependency` at its last round.
    pub fn dependency_up(&self, dependency: &str, up: bool) {
        self.dependency_up
            .get_or_create(&DependencyLabels {
                dependency: dependency.into(),
            })
            .set(i64::from(up));
    }
    /// The last state set for `vhost` (`None`: never tried).
    pub fn vhost_state(&self, vhost: &str) -> Option<bool> {
        self.vhost_up
            .get(&VhostLabels { vhost: vhost.into() })
            .map(|g| g.get() == 1)
    }
    /// An admin request was refused for its caller's rights.
    pub fn admin_refused(&self, reason: &str) {
        self.admin_refusals
            .get_or_create(&ReasonLabels { reason: reason.into() })
            .inc();
    }
    /// Admin refusals so far for `reason`.
    pub fn admin_refusal_count(&self, reason: &str) -> u64 {
        self.admin_refusals
            .get(&ReasonLabels { reason: reason.into() })
            .map_or(0, |c| c.get())
    }

    /// The traffic tallied since the last flush (per source and hour).
    pub fn traffic(&self) -> &crate::traffic::Traffic {
        &self.traffic
    }
    /// A request arrived for a source.
    pub fn received(&self, t: &str, s: &str) {
        self.received.get_or_create(&source(t, s)).inc();
    }
    /// Requests received so far for a source.
    pub fn received_count(&self, t: &str, s: &str) -> u64 {
        self.received.get_or_create(&source(t, s)).get()
    }
    /// A webhook was committed and acknowledged.
    pub fn accepted(&self, t: &str, s: &str, outcome: Outcome) {
        let (outcome, tallied) = match outcome {
            Outcome::New => ("new", "accepted"),
            Outcome::Duplicate => ("duplicate", "duplicate"),
        };
        self.traffic.add(t, s, tallied, "");
        self.accepted
            .get_or_create(&AcceptLabels {
                tenant: t.into(),
                source: s.into(),
                outcome: outcome.into(),
            })
            .inc();
    }
    /// A webhook was refused.
    pub fn rejected(&self, t: &str, s: &str, reason: &str) {
        self.traffic.add(t, s, "rejected", reason);
        self.rejected
            .get_or_create(&RejectLabels {
                tenant: t.into(),
                source: s.into(),
                reason: reason.into(),
            })
            .inc();
    }
    /// Count of refusals so far (tests, `bench`).
    pub fn rejected_count(&self, t: &str, s: &str, reason: &str) -> u64 {
        self.rejected
            .get_or_create(&RejectLabels {
                tenant: t.into(),
                source: s.into(),
                reason: reason.into(),
            })
            .get()
    }
    /// A heartbeat was answered.
    pub fn heartbeat(&self, t: &str, s: &str) {
        self.heartbeats.get_or_create(&source(t, s)).inc();
    }
    /// A webhook was accepted unverified (observe mode).
    pub fn unverified(&self, t: &str, s: &str) {
        self.unverified.get_or_create(&source(t, s)).inc();
    }
    /// Commit latency.
    pub fn commit_latency(&self, seconds: f64) {
        self.commit_seconds.observe(seconds);
    }
    /// Outbox gauges.
    pub fn outbox(&self, pending: i64, parked: i64, oldest_secs: f64) {
        self.outbox_pending.set(pending);
        self.outbox_parked.set(parked);
        self.outbox_oldest.set(oldest_secs);
    }
    /// The label value of a routing key: itself for the first
    /// [`MAX_ROUTING_KEY_LABELS`] keys of a tenant, then [`OTHER_ROUTING_KEYS`].
    fn routing_key_label(&self, t: &str, routing_key: &str) -> String {
        let Ok(mut seen) = self.routing_keys.lock() else {
            return OTHER_ROUTING_KEYS.to_owned();
        };
        let keys = seen.entry(t.to_owned()).or_default();
        if keys.contains(routing_key) {
            return routing_key.to_owned();
        }
        if keys.len() < MAX_ROUTING_KEY_LABELS {
            keys.insert(routing_key.to_owned());
            return routing_key.to_owned();
        }
        OTHER_ROUTING_KEYS.to_owned()
    }
    /// An event was confirmed by the broker.
    pub fn published(&self, t: &str, routing_key: &str, confirm_seconds: f64) {
        let routing_key = self.routing_key_label(t, routing_key);
        self.published
            .get_or_create(&PublishLabels {
                tenant: t.into(),
                routing_key,
            })
            .inc();
        self.publish_seconds.observe(confirm_seconds);
    }
    /// Events confirmed so far for a tenant and routing key (label value).
    pub fn published_count(&self, t: &str, routing_key: &str) -> u64 {
        self.published
            .get_or_create(&PublishLabels {
                tenant: t.into(),
                routing_key: routing_key.into(),
            })
            .get()
    }
    /// The relay failed outside a single row (`batch_failed`, `panic`,
    /// `loop_restarted`, `event_record_refused`).
    pub fn relay_error(&self, reason: &str) {
        self.relay_errors
            .get_or_create(&ReasonLabels { reason: reason.into() })
            .inc();
    }
    /// Relay failures so far for a reason.
    pub fn relay_error_count(&self, reason: &str) -> u64 {
        self.relay_errors
            .get_or_create(&ReasonLabels { reason: reason.into() })
            .get()
    }
    /// A relay loop claimed `rows` outbox rows (0: an empty claim).
    pub fn relay_claimed(&self, rows: usize) {
        let outcome = if rows == 0 { "empty" } else { "rows" };
        self.relay_claims.get_or_create(&OutcomeLabels { outcome }).inc();
        if rows > 0 {
            self.relay_claim_rows.observe(rows as f64);
        }
    }
    /// Claims so far that found rows (`rows`) or none (`empty`).
    pub fn relay_claim_count(&self, outcome: &'static str) -> u64 {
        self.relay_claims.get_or_create(&OutcomeLabels { outcome }).get()
    }
    /// A reload of the tenant files ended with `outcome`.
    pub fn config_reload(&self, outcome: &str) {
        self.config_reloads
            .get_or_create(&ReasonLabels { reason: outcome.into() })
            .inc();
    }
    /// Reloads so far with `outcome`.
    pub fn config_reload_count(&self, outcome: &str) -> u64 {
        self.config_reloads
            .get(&ReasonLabels { reason: outcome.into() })
            .map_or(0, |c| c.get())
    }
    /// A notification parked for `reason`.
    pub fn parked_reason(&self, reason: &str) {
        self.parked_reasons
            .get_or_create(&ReasonLabels { reason: reason.into() })
            .inc();
    }
    /// Notifications parked so far for a reason.
    pub fn parked_reason_count(&self, reason: &str) -> u64 {
        self.parked_reasons
            .get_or_create(&ReasonLabels { reason: reason.into() })
            .get()
    }
    /// `n` payload values of a source's notification left out of typed data.
    pub fn normalization_warnings(&self, tenant: &str, source: &str, n: u64) {
        self.normalization_warnings
            .get_or_create(&SourceLabels {
                tenant: tenant.into(),
                source: source.into(),
            })
            .inc_by(n);
    }
    /// An event of a source judged stale, handled by `policy` (mark, route, park).
    pub fn stale_event(&self, tenant: &str, source: &str, policy: &str) {
        self.stale_events
            .get_or_create(&StaleLabels {
                tenant: tenant.into(),
                source: source.into(),
                policy: policy.into(),
            })
            .inc();
    }
    /// Stale events of a source so far under `policy`.
    pub fn stale_count(&self, tenant: &str, source: &str, policy: &str) -> u64 {
        self.stale_events
            .get_or_create(&StaleLabels {
                tenant: tenant.into(),
                source: source.into(),
                policy: policy.into(),
            })
            .get()
    }
    /// Values left out so far for a source.
    pub fn normalization_warning_count(&self, tenant: &str, source: &str) -> u64 {
        self.normalization_warnings
            .get_or_create(&SourceLabels {
                tenant: tenant.into(),
                source: source.into(),
            })
            .get()
    }
    /// A relay loop started (`+1`) or ended (`-1`).
    pub fn relay_loop_running(&self, delta: i64) {
        self.relay_loops.inc_by(delta);
    }
    /// Relay loops running now.
    pub fn relay_loops_running(&self) -> i64 {
        self.relay_loops.get()
    }
    /// An event was suppressed as a duplicate.
    pub fn dedupe_hit(&self, t: &str) {
        self.dedupe_hits.get_or_create(&tenant(t)).inc();
    }
    /// Duplicates suppressed so far for a tenant.
    pub fn dedupe_hit_count(&self, t: &str) -> u64 {
        self.dedupe_hits.get_or_create(&tenant(t)).get()
    }
    /// Redis failed; PostgreSQL decided.
    pub fn dedupe_fallback(&self) {
        self.dedupe_fallbacks.inc();
    }
    /// Fallback decisions so far.
    pub fn dedupe_fallback_count(&self) -> u64 {
        self.dedupe_fallbacks.get()
    }
    /// A publish failed and will be retried.
    pub fn publish_failure(&self, t: &str) {
        self.publish_failures.get_or_create(&tenant(t)).inc();
    }
    /// A notification was parked.
    pub fn parked(&self, t: &str) {
        self.parked.get_or_create(&tenant(t)).inc();
    }

    /// Renders every metric in the Prometheus text exposition format 0.0.4
    /// (what a scraper gets without asking for OpenMetrics): counter
    /// families are named with their `_total` suffix, no `# UNIT`/`# EOF`.
    pub fn render_text(&self) -> String {
        openmetrics_to_text(&self.render())
    }

    /// Renders every metric in the OpenMetrics text format 1.0.
    pub fn render(&self) -> String {
        if let Some(rss) = resident_memory_bytes() {
            self.resident_memory.set(rss);
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Converts OpenMetrics text to the Prometheus 0.0.4 text format: a counter
/// family `x` exposes samples `x_total`, which a 0.0.4 parser only types as
/// a counter when `# TYPE` and `# HELP` name `x_total`.
fn openmetrics_to_text(open: &str) -> String {
    let mut counters = std::collections::HashSet::new();
    for line in open.lines() {
        if let Some(name) = line.strip_prefix("# TYPE ").and_then(|l| l.strip_suffix(" counter")) {
            counters.insert(name.to_owned());
        }
    }
    let mut out = String::with_capacity(open.len());
    for line in open.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let meta = ["# TYPE ", "# HELP "]
            .iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (*p, rest)));
        match meta {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                if counters.contains(name) {
                    out.push_str(&format!("{prefix}{name}_total {tail}"));
                } else {
                    out.push_str(line);
                }
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// VmRSS of this process from `/proc/self/status` (Linux), in bytes.
fn resident_memory_bytes() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_key_labels_are_bounded_per_tenant() {
        let m = Metrics::new();
        for i in 0..MAX_ROUTING_KEY_LABELS + 50 {
            m.published("demo", &format!("webhooks.t{i}"), 0.001);
        }
        m.published("demo", "webhooks.t0", 0.001);
        assert_eq!(
            m.published_count("demo", "webhooks.t0"),
            2,
            "known keys keep their label"
        );
        assert_eq!(m.published_count("demo", OTHER_ROUTING_KEYS), 50);
        m.published("other", "webhooks.x", 0.001);
        assert_eq!(m.published_count("other", "webhooks.x"), 1, "the bound is per tenant");
    }

    #[test]
    fn renders_counters_by_reason() {
        let m = Metrics::new();
        m.received("demo", "keeta");
        m.rejected("demo", "keeta", "bad_signature");
        m.rejected("demo", "keeta", "bad_signature");
        m.outbox(3, 1, 0.5);
        let text = m.render();
        assert!(
            text.contains(r#"hookgate_webhooks_rejected_total{tenant="demo",source="keeta",reason="bad_signature"} 2"#),
            "{text}"
        );
        assert!(text.contains("hookgate_outbox_pending 3"), "{text}");
        let plain = m.render_text();
        assert!(
            plain.contains("# TYPE hookgate_webhooks_rejected_total counter\n"),
            "{plain}"
        );
        assert!(plain.contains("# HELP hookgate_webhooks_rejected_total "), "{plain}");
        assert!(!plain.contains("# EOF"), "{plain}");
        assert!(plain.contains("# TYPE hookgate_outbox_pending gauge\n"), "{plain}");
        assert!(
            text.contains(r#"hookgate_webhooks_received_total{tenant="demo",source="keeta"} 1"#),
            "{text}"
        );
    }
}
