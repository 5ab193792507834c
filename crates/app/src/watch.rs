//! The evaluator: every `watch.interval_secs`, reads the stored facts,
//! judges every configured source and the outbox (`hookgate_watch`), sets
//! the source health gauges of this process, lets the incidents move (one
//! process at a time: the store's advisory lock) and publishes their
//! transitions to the operator exchange.

use chrono::{DateTime, Duration as Span, DurationRound, Utc};
use hookgate_config::{LiveTenants, WatchSettings};
use hookgate_core::ReadinessProbe;
use hookgate_dispatcher::Publisher;
use hookgate_store::{IncidentTransition, Store, StoreError};
use hookgate_telemetry::Metrics;
use hookgate_watch::{assess, Assessment, Condition, Key, Kind, State};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Sample ids kept per incident.
const SAMPLES: i64 = 5;
/// Seconds after the start before dependencies are judged.
const DEPENDENCY_GRACE_SECS: i64 = 30;
/// How long a dependency probe may take before it counts as down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Operator events published per round at most.
const EVENTS_PER_ROUND: i64 = 500;

/// What one round did.
#[derive(Debug, Default)]
pub struct Round {
    /// The judged state, whether or not this process held the lock.
    pub assessment: Assessment,
    /// Transitions made (`None`: another process evaluated this round).
    pub transitions: Option<Vec<IncidentTransition>>,
    /// Operator events published.
    pub published: usize,
}

/// The evaluator of one process.
#[derive(Debug)]
pub struct Watcher {
    store: Store,
    tenants: LiveTenants,
    settings: WatchSettings,
    metrics: Arc<Metrics>,
    publisher: Option<Arc<Publisher>>,
    started: DateTime<Utc>,
    /// Sources with gauges, to drop the series of removed ones.
    shown: Mutex<HashSet<(String, String)>>,
    /// The dependencies this process uses (RabbitMQ, Redis): probed each
    /// round for `dependency_down`. None: this process does not judge them.
    dependencies: Vec<Arc<dyn ReadinessProbe>>,
    /// `http.tls_cert_file`, read each round for `tls_expiry`.
    tls_cert: Option<PathBuf>,
}

impl Watcher {
    /// An evaluator; `publisher` publishes operator events (processes that
    /// do not publish leave them to one that does). Every configured
    /// source's gauges exist from here, at zero.
    pub fn new(
        store: Store,
        tenants: LiveTenants,
        settings: WatchSettings,
        metrics: Arc<Metrics>,
        publisher: Option<Arc<Publisher>>,
        started: DateTime<Utc>,
    ) -> Watcher {
        let w = Watcher {
            store,
            tenants,
            settings,
            metrics,
            publisher,
            started,
            shown: Mutex::new(HashSet::new()),
            dependencies: Vec::new(),
            tls_cert: None,
        };
        w.show_configured();
        // Every transition's series exists from the start (rate() sees the first).
        for kind in Kind::ALL {
            for state in [State::Open, State::Acknowledged, State::Resolved, State::Ignored] {
                w.metrics.incident_transition_seen(kind.as_str(), state.as_str());
            }
        }
        w
    }

    /// Probes these dependencies each round (`dependency_down`).
    pub fn with_dependencies(mut self, probes: Vec<Arc<dyn ReadinessProbe>>) -> Watcher {
        self.dependencies = probes;
        self
    }

    /// Watches this certificate chain's expiry (`tls_expiry`).
    pub fn with_tls_certificate(mut self, path: Option<PathBuf>) -> Watcher {
        self.tls_cert = path;
        self
    }

    /// The conditions this process sees itself (its dependencies, its
    /// certificate), and the kinds it cannot judge.
    async fn own_conditions(&self, now: DateTime<Utc>) -> (Vec<Condition>, Vec<Kind>) {
        let mut found = Vec::new();
        let mut unjudged = Vec::new();
        let gateway = |kind: Kind, cause: String, count: i64, summary: String| Condition {
            key: Key {
                kind,
                tenant: String::new(),
                source: String::new(),
                cause,
            },
            count,
            samples: Vec::new(),
            summary,
        };
        // Right after the start the relays are still connecting: a probe
        // then would open (and soon resolve) an incident for nothing.
        let settling = now - self.started < Span::seconds(DEPENDENCY_GRACE_SECS);
        if self.dependencies.is_empty() || settling {
            unjudged.push(Kind::DependencyDown);
        }
        for p in self.dependencies.iter().filter(|_| !settling) {
            let checked = tokio::time::timeout(PROBE_TIMEOUT, p.check()).await;
            self.metrics.dependency_up(p.name(), matches!(checked, Ok(Ok(()))));
            match checked {
                Ok(Ok(())) => {
                    if let Ok(Some(degraded)) = tokio::time::timeout(PROBE_TIMEOUT, p.degraded()).await {
                        let summary = format!("{} is degraded: {degraded}", p.name());
                        found.push(gateway(
                            Kind::DependencyDown,
                            format!("{}:degraded", p.name()),
                            1,
                            summary,
                        ));
                    }
                }
                Ok(Err(e)) => {
                    let summary = format!("{} is down: {e}", p.name());
                    found.push(gateway(Kind::DependencyDown, p.name().to_owned(), 1, summary));
                }
                Err(_) => {
                    let summary = format!("{} did not answer within {PROBE_TIMEOUT:?}", p.name());
                    found.push(gateway(Kind::DependencyDown, p.name().to_owned(), 1, summary));
                }
            }
        }
        match &self.tls_cert {
            None => unjudged.push(Kind::TlsExpiry),
            Some(path) => match crate::certificate::file_expires_at(path) {
                Ok(expires) => {
                    let left = expires - now;
                    if left < Span::days(i64::from(self.settings.tls_expiry_days)) {
                        let summary = if left <= Span::zero() {
                            format!("the TLS certificate {} expired at {expires}", path.display())
                        } else {
                            format!(
                                "the TLS certificate {} expires in {} (at {expires})",
                                path.display(),
                                hookgate_watch::words(left.num_seconds().max(0) as u64)
                            )
                        };
                        found.push(gateway(Kind::TlsExpiry, String::new(), left.num_days(), summary));
                    }
                }
                Err(e) => {
                    // The listener reports an unreadable certificate itself;
                    // the incident stays as it was.
                    tracing::warn!(error = %e, "cannot read the TLS certificate's expiry");
                    unjudged.push(Kind::TlsExpiry);
                }
            },
        }
        (found, unjudged)
    }

    /// Creates the series of every configured source (at zero) and removes
    /// those of sources no longer configured.
    fn show_configured(&self) {
        let mut now = HashSet::new();
        for t in self.tenants.load().iter() {
            for s in t.sources.keys() {
                now.insert((t.id.to_string(), s.to_string()));
            }
        }
        let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
        for (t, s) in shown.difference(&now) {
            self.metrics.forget_source(t, s);
        }
        for (t, s) in now.difference(&shown) {
            self.metrics.source_health(t, s, 0.0, false, false);
        }
        *shown = now;
    }

    /// Reads the facts and judges them at `now`, without changing anything.
    pub async fn assess(&self, now: DateTime<Utc>) -> Result<Assessment, StoreError> {
        let hour = now.duration_trunc(Span::hours(1)).unwrap_or(now);
        let weeks = Span::weeks(i64::from(self.settings.baseline_weeks));
        let facts = self.store.watch_facts(hour - weeks, hour - Span::hours(1)).await?;
        let mut tenants: Vec<_> = self.tenants.load().iter().cloned().collect();
        tenants.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(assess(&tenants, &facts, &self.settings, self.started, now))
    }

    /// One round at `now` (tests pass their own clock).
    pub async fn round(&self, now: DateTime<Utc>) -> Result<Round, StoreError> {
        self.show_configured();
        let mut assessment = match self.assess(now).await {
            Ok(a) => {
                self.metrics.dependency_up("postgresql", true);
                a
            }
            Err(e) => {
                if e.is_unavailable() {
                    self.metrics.dependency_up("postgresql", false);
                }
                return Err(e);
            }
        };
        for s in &assessment.sources {
            self.metrics.source_health(
                &s.tenant,
                &s.source,
                s.silence.seconds_since_accepted,
                s.silence.quiet,
                s.refused_by.is_some(),
            );
        }
        for c in &mut assessment.conditions {
            c.samples = match c.key.kind {
                Kind::RejectionSpike => {
                    self.store
                        .rejection_samples(&c.key.tenant, &c.key.source, &c.key.cause, SAMPLES)
                        .await?
                }
                Kind::Parked => self.store.parked_samples(&c.key.tenant, SAMPLES).await?,
                _ => Vec::new(),
            };
        }
        let (own, unjudged) = self.own_conditions(now).await;
        assessment.conditions.extend(own);
        let transitions = self
            .store
            .evaluate_incidents(&assessment.conditions, &unjudged, now)
            .await?;
        match &transitions {
            Some(ts) => {
                self.metrics.watch_round("evaluated");
                for t in ts {
                    self.metrics.incident_transition(t.kind.as_str(), t.state.as_str());
                    tracing::info!(
                        incident = t.incident_id,
                        kind = t.kind.as_str(),
                        state = t.state.as_str(),
                        "incident transition"
                    );
                }
            }
            None => self.metrics.watch_round("skipped"),
        }
        let mut counts: Vec<(Kind, i64)> = Kind::ALL.iter().map(|k| (*k, 0)).collect();
        for (k, n) in self.store.active_incident_counts().await? {
            if let Some(slot) = counts.iter_mut().find(|c| c.0 == k) {
                slot.1 = n;
            }
        }
        for (k, n) in counts {
            self.metrics.incidents_active(k.as_str(), n);
        }
        let published = self.publish().await?;
        Ok(Round {
            assessment,
            transitions,
            published,
        })
    }

    /// Publishes the transitions not published yet (a lease keeps two
    /// processes off the same ones; a crash between the confirm and the
    /// mark publishes one again, with the same CloudEvent id).
    pub async fn publish(&self) -> Result<usize, StoreError> {
        let Some(publisher) = &self.publisher else { return Ok(0) };
        let events = self.store.lease_operator_events(EVENTS_PER_ROUND, 30.0).await?;
        if events.is_empty() {
            return Ok(0);
        }
        let messages: Vec<(String, String, Vec<u8>)> = events
            .iter()
            .map(|e| {
                let id = e.event["id"].as_str().unwrap_or_default().to_owned();
                (id, e.routing_key.clone(), e.event.to_string().into_bytes())
            })
            .collect();
        let results = publisher.publish_operator_events(&messages).await;
        let mut done = Vec::new();
        for (e, r) in events.iter().zip(results) {
            match r {
                Ok(()) => done.push(e.id),
                Err(err) => {
                    tracing::warn!(event = e.id, error = %hookgate_core::Chain(&err), "operator event not published; retried after its lease");
                }
            }
        }
        self.store.operator_events_published(&done).await?;
        Ok(done.len())
    }

    /// Runs rounds until `shutdown`.
    pub async fn run(self: Arc<Self>, every: Duration, shutdown: CancellationToken) {
        loop {
            if let Err(e) = self.round(Utc::now()).await {
                self.metrics.watch_round("failed");
                tracing::warn!(error = %hookgate_core::Chain(&e), "watch round failed; retried at the next");
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    }
}

impl hookgate_admin::Health for Watcher {
    fn assess(&self) -> futures_util::future::BoxFuture<'_, Result<Assessment, StoreError>> {
        Box::pin(Watcher::assess(self, Utc::now()))
    }
}
