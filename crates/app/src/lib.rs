//! The composition root: builds and runs a gateway (ingress, dispatcher, or
//! both, and the operations listener) from settings. The background tasks
//! (relays, replays, the evaluator and the notifier of watchfulness,
//! retention, the traffic flusher, reload listeners, servers) are started
//! here under one task tracker and stopped in order: servers, then those
//! tasks, then the publisher's connections, then the pool. The ingress
//! state's group-commit writers and key-ring listener are built with it
//! (`IngressState::build` hands them over) and run under the same tracker:
//! the writers answer the last commits of the draining listener, then end
//! with the state. Hot reload of the tenant
//! files (`reload.rs`) swaps the one tenant set every part shares. The `hookgate` binary and the
//! test kit build gateways only through [`Gateway`].

mod certificate;
pub mod notify;
mod reload;
pub mod watch;

use anyhow::Context;
use hookgate_admin::{AdminServer, AdminState, ApiSettings};
use hookgate_config::{LiveTenants, Settings};
use hookgate_core::ReadinessProbe;
use hookgate_dispatcher::{Dedupe, Dispatcher, Publisher, RabbitProbe, RedisProbe, RelayProbe};
use hookgate_ingress::{IngressServer, IngressState, Limits, RejectionLimits};
use hookgate_store::{PoolConfig, Store};
use hookgate_telemetry::Metrics;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How often a process adds its traffic tally to the console's rollup.
const TRAFFIC_FLUSH: Duration = Duration::from_secs(5);

/// Which parts of the gateway a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// HTTP ingress and dispatcher.
    All,
    /// HTTP ingress only.
    Ingress,
    /// Dispatcher only.
    Dispatcher,
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "all" => Ok(Role::All),
            "ingress" => Ok(Role::Ingress),
            "dispatcher" => Ok(Role::Dispatcher),
            other => Err(format!("unknown role {other:?}; roles: all, ingress, dispatcher")),
        }
    }
}

/// A built gateway, ready to run.
#[derive(Debug)]
pub struct Gateway {
    /// Store (shared with tests for inspection).
    pub store: Store,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
    server: Option<IngressServer>,
    admin: AdminServer,
    admin_state: Arc<AdminState>,
    dispatchers: Vec<Dispatcher>,
    /// Present when the tenants came from a directory (hot reload).
    reloader: Option<Arc<reload::Reloader>>,
    watch: Option<Duration>,
    live: LiveTenants,
    /// SIGHUP, listened to from the build on (before any listener serves),
    /// so that a signal never falls to the default action (exit).
    #[cfg(unix)]
    hup: Option<tokio::signal::unix::Signal>,
    /// Background retention, in processes that relay.
    retention: Option<hookgate_config::RetentionSettings>,
    /// The evaluator of source health and incidents, and how often it runs
    /// in the background (`None`: `watch.enabled` is off; the admin API
    /// still assesses on request).
    watcher: (Arc<watch::Watcher>, Option<Duration>),
    /// The HTTP notifier of operator events (`watch.notify_url`).
    notifier: Option<Arc<notify::Notifier>>,
    /// The publisher every relay and the evaluator share (closed before the pool).
    publisher: Arc<Publisher>,
    /// The webhook listener's group-commit writers and key listener, run
    /// under the tracker (the writers end once the listener drained).
    ingress_tasks: Option<hookgate_ingress::IngressTasks>,
    /// Spells of spooling the drainer finished, recorded as `spooled` notices.
    spool_reports: Option<tokio::sync::mpsc::UnboundedReceiver<hookgate_ingress::spool::Drained>>,
}

/// Already bound listeners (tests bind port 0); `None`: bind the configured
/// address (`http.listen`, `admin.listen`).
#[derive(Debug, Default)]
pub struct Listeners {
    /// The public webhook listener.
    pub http: Option<TcpListener>,
    /// The operations listener.
    pub admin: Option<TcpListener>,
}

/// Binds `address` unless a listener was handed in; non-blocking for actix.
/// The listener given (tests), or one bound on `address`, the value of the
/// setting `key` (named in the error, so the fix is obvious).
fn bind(given: Option<TcpListener>, address: &str, key: &str) -> anyhow::Result<TcpListener> {
    let listener = match given {
        Some(l) => l,
        None => TcpListener::bind(address).with_context(|| format!("binding {address} (setting {key})"))?,
    };
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// The admin API is only as safe as its listener: on an address other
/// hosts can reach, at least one token must be configured. Tokens left out
/// (their secret unresolved) are reported here.
fn check_admin_exposure(addr: std::net::SocketAddr, admin: &hookgate_config::AdminSettings) -> anyhow::Result<()> {
    for (name, why) in &admin.locked {
        tracing::warn!(token = %name, reason = %why, "admin token left out: {why}");
    }
    if admin.tokens.is_empty() {
        if !addr.ip().is_loopback() {
            anyhow::bail!(
                "admin.listen {addr} is not a loopback address and no admin token is configured: \
                 configure [[admin.tokens]] (e.g. set HOOKGATE_ADMIN_TOKEN for the shipped `local` token) \
                 or listen on 127.0.0.1"
            );
        }
        tracing::warn!("no admin token configured: the admin API (/v1) is locked, every call answers 401");
    }
    Ok(())
}

/// Records each spell of spooling, once drained, as a `spooled` notice
/// (PostgreSQL was away while it lasted: no incident could be written then).
/// Ends when the drainer does.
async fn report_spooled(
    mut reports: tokio::sync::mpsc::UnboundedReceiver<hookgate_ingress::spool::Drained>,
    store: Store,
    metrics: Arc<Metrics>,
) {
    let process = std::env::var("HOSTNAME").unwrap_or_else(|_| format!("pid {}", std::process::id()));
    while let Some(d) = reports.recv().await {
        let since = d.since.map_or_else(|| "?".to_owned(), |t| t.to_rfc3339());
        let c = hookgate_watch::Condition {
            key: hookgate_watch::Key {
                kind: hookgate_watch::Kind::Spooled,
                tenant: String::new(),
                source: String::new(),
                cause: process.clone(),
            },
            count: i64::try_from(d.entries).unwrap_or(i64::MAX),
            samples: Vec::new(),
            summary: format!(
                "{process} answered {} webhooks from its spool while PostgreSQL was away (received from {since}); all stored by {}",
                d.entries,
                d.until.to_rfc3339()
            ),
        };
        match store.raise_incident(&c, chrono::Utc::now()).await {
            Ok(Some(t)) => metrics.incident_transition(t.kind.as_str(), t.state.as_str()),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %hookgate_core::Chain(&e), "could not record the spooled notice"),
        }
    }
}

/// Runs a relay loop until `shutdown`, restarting it when it dies (a panic
/// that escaped its own guard): counted as `loop_restarted` in
/// `hookgate_relay_errors_total`, and `/readyz` says "not ready" meanwhile.
async fn supervise(dispatcher: Arc<Dispatcher>, metrics: Arc<Metrics>, shutdown: CancellationToken) {
    loop {
        let (d, s) = (dispatcher.clone(), shutdown.clone());
        match tokio::spawn(async move { d.run(s).await }).await {
            // Counted again before the restart (the dead loop took itself off).
            Err(e) if e.is_panic() && !shutdown.is_cancelled() => {
                metrics.relay_error("loop_restarted");
                tracing::error!(
                    panic = hookgate_dispatcher::panic_message(&e.into_panic()),
                    "relay loop died; restarting it"
                );
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                dispatcher.starting();
            }
            _ => return,
        }
    }
}

impl Gateway {
    /// Connects to PostgreSQL (creating and migrating it as configured),
    /// prepares RabbitMQ and Redis clients, binds the HTTP listener (or uses
    /// `listener`). RabbitMQ and Redis being down does not stop the start:
    /// ingress keeps accepting and the dispatcher retries.
    pub async fn build(
        settings: &Settings,
        role: Role,
        listeners: Listeners,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Gateway> {
        let svc = &settings.service;
        reload::check(&settings.tenants, svc).map_err(anyhow::Error::msg)?;
        // One live tenant set for every part of the process: a reload swaps
        // it for all of them at once.
        let live = LiveTenants::new(settings.tenants.clone());
        let pool = PoolConfig {
            max_connections: svc.database.max_connections,
            acquire_timeout: svc.database.acquire_timeout(),
        };
        let connected = Store::connect(&svc.database.url, &pool, svc.database.create_if_missing).await;
        let store = match connected {
            Ok(store) => {
                if svc.database.migrate_on_start {
                    store.migrate().await.context("applying migrations")?;
                }
                store
            }
            // An ingress with a spool starts while PostgreSQL is away: it
            // answers from the spool and drains it once the database is back
            // (whose schema its migrations Job, or another process, keeps).
            Err(e) if e.is_unavailable() && role == Role::Ingress && svc.spool.dir().is_some() => {
                tracing::warn!(error = %hookgate_core::Chain(&e), "PostgreSQL unreachable at start; ingress answers from the spool until it is back (migrations not applied by this process)");
                Store::connect_lazy(&svc.database.url, &pool).context("database.url")?
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "connecting to PostgreSQL at {} (setting database.url)",
                    redact_url(&svc.database.url)
                )))
            }
        };
        let metrics = Arc::new(Metrics::new());
        let confirm_timeout = Duration::from_millis(svc.dispatcher.confirm_timeout_ms);
        let publisher =
            Arc::new(Publisher::new(svc.rabbitmq.clone(), live.clone(), confirm_timeout).with_metrics(metrics.clone()));
        let dedupe = Arc::new(Dedupe::new(svc.redis.clone()));
        if role != Role::Ingress {
            // Declare exchanges before the first publish; a down broker is retried later.
            if let Err(e) = publisher.connect().await {
                tracing::warn!(error = %hookgate_core::Chain(&e), rabbitmq.url = %redact_url(&svc.rabbitmq.url), "RabbitMQ not reachable at start (setting rabbitmq.url); the dispatcher will retry");
            }
        }
        // Several relay loops per process: claims are serialized, so per-subject
        // order holds while publishing and marking of their batches overlap.
        let loops = if role != Role::Ingress && svc.dispatcher.enabled {
            svc.dispatcher.concurrency.max(1)
        } else {
            0
        };
        let dispatchers: Vec<Dispatcher> = (0..loops)
            .map(|_| {
                Dispatcher::new(
                    store.clone(),
                    publisher.clone(),
                    dedupe.clone(),
                    live.clone(),
                    metrics.clone(),
                    svc.dispatcher.clone(),
                )
            })
            .collect();
        // Counted as running from here: readiness must not flap between the
        // build and the first scheduling of the loops.
        for d in &dispatchers {
            d.starting();
        }
        // Probes per role: an ingress-only process is ready without RabbitMQ
        // and Redis (it never uses them).
        let reloader = settings.tenants_dir.clone().map(|dir| {
            Arc::new(reload::Reloader::new(
                dir,
                svc.clone(),
                live.clone(),
                (role != Role::Ingress).then(|| publisher.clone()),
                metrics.clone(),
                store.clone(),
            ))
        });
        // What the evaluator probes itself: the dependencies this role uses
        // (an ingress-only process judges none of them) and the certificate.
        let dependencies: Vec<Arc<dyn ReadinessProbe>> = if role == Role::Ingress {
            Vec::new()
        } else {
            vec![
                Arc::new(RabbitProbe(publisher.clone())),
                Arc::new(RedisProbe(dedupe.clone())),
            ]
        };
        let tls_cert = (!svc.http.tls_cert_file.is_empty() && role != Role::Dispatcher)
            .then(|| std::path::PathBuf::from(&svc.http.tls_cert_file));
        let watcher = Arc::new(
            watch::Watcher::new(
                store.clone(),
                live.clone(),
                svc.watch.clone(),
                metrics.clone(),
                (role != Role::Ingress).then(|| publisher.clone()),
                chrono::Utc::now(),
            )
            .with_dependencies(dependencies)
            .with_tls_certificate(tls_cert),
        );
        let watcher = (
            watcher,
            svc.watch.enabled.then(|| Duration::from_secs(svc.watch.interval_secs)),
        );
        let gateway_publisher = publisher.clone();
        let mut probes: Vec<Arc<dyn ReadinessProbe>> = Vec::new();
        if role != Role::Ingress {
            probes.push(Arc::new(RabbitProbe(publisher)));
            probes.push(Arc::new(RedisProbe(dedupe)));
        }
        if loops > 0 {
            probes.push(Arc::new(RelayProbe {
                metrics: metrics.clone(),
                expected: loops as i64,
            }));
        }
        let admin_state = Arc::new(
            AdminState::new(store.clone(), metrics.clone(), probes)
                .with_spooling(role != Role::Dispatcher && svc.spool.dir().is_some())
                .with_api(ApiSettings {
                    tokens: svc.admin.tokens.clone(),
                    tenants: live.clone(),
                    public_base_url: svc.http.public_base_url.clone(),
                    replay_rate_per_sec: svc.admin.replay_rate_per_sec,
                    reload: reloader.clone().map(|r| r as Arc<dyn hookgate_admin::Reload>),
                    retention: svc.retention.clone(),
                    health: Some(watcher.0.clone() as Arc<dyn hookgate_admin::Health>),
                }),
        );
        #[cfg(unix)]
        let hup = match reloader {
            Some(_) => match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
                Ok(hup) => Some(hup),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGHUP; reload with POST /v1/config/reload");
                    None
                }
            },
            None => None,
        };
        let admin_listener = bind(listeners.admin, &svc.admin.listen, "admin.listen")?;
        check_admin_exposure(admin_listener.local_addr()?, &svc.admin)?;
        let admin = AdminServer::build(admin_listener, admin_state.clone())?;
        let mut ingress_tasks = None;
        let mut spool_reports = None;
        let server = if role == Role::Dispatcher {
            None
        } else {
            let listener = bind(listeners.http, &svc.http.listen, "http.listen")?;
            // A forwarded-for header believed from any peer is only safe when
            // no client can reach the listener directly.
            let exposed = listener.local_addr().is_ok_and(|a| !a.ip().is_loopback());
            for warning in settings.tenants.warnings() {
                if exposed {
                    tracing::warn!("the webhook listener is not on a loopback address: {warning}");
                } else {
                    tracing::info!("{warning}");
                }
            }
            let (state, mut tasks) = IngressState::build(
                live.clone(),
                store.clone(),
                metrics.clone(),
                svc.database.writers,
                svc.database.max_batch,
            );
            // The spool: verified requests answered from a local journal
            // while PostgreSQL is away.
            let state = match svc.spool.dir() {
                None => state,
                Some(dir) => {
                    let (spool, opened) = hookgate_ingress::spool::Spool::open(&dir, svc.spool.max_bytes)
                        .with_context(|| format!("spool.dir {}", dir.display()))?;
                    let cut: u64 = opened.cuts.iter().map(|c| c.2).sum();
                    metrics.spool_cut(cut);
                    tracing::info!(dir = %dir.display(), entries = opened.entries, bytes = opened.bytes, cut, "spool opened");
                    let (reports, received) = tokio::sync::mpsc::unbounded_channel();
                    spool_reports = Some(received);
                    tasks = tasks.with_spool_drain(spool.clone(), &state, Some(reports));
                    state.with_spool(spool)
                }
            };
            ingress_tasks = Some(tasks);
            let state = Arc::new(
                state
                    .with_registered_keys_refresh(Duration::from_millis(svc.http.registered_keys_refresh_ms))
                    .with_trusted_proxies(svc.http.trusted_proxy_networks())
                    .with_limits(Limits {
                        header_read_timeout: Duration::from_millis(svc.http.header_read_timeout_ms),
                        body_read_timeout: Duration::from_millis(svc.http.body_read_timeout_ms),
                        max_body_bytes_in_memory: svc.http.max_body_bytes_in_memory,
                        small_body_reserve_bytes: svc.http.small_body_reserve_bytes,
                        max_body_bytes_per_peer: svc.http.max_body_bytes_per_peer,
                        max_body_bytes_per_source: svc.http.max_body_bytes_per_source,
                        max_in_flight_per_peer: svc.http.max_in_flight_per_peer,
                        max_in_flight: svc.http.max_in_flight,
                        max_in_flight_commits: svc.http.max_in_flight_commits,
                        max_worker_lag: Duration::from_millis(svc.http.max_worker_lag_ms),
                    })
                    .with_rejection_limits(RejectionLimits {
                        rows_per_sec: f64::from(svc.http.rejection_rows_per_sec),
                        rows_burst: f64::from(svc.http.rejection_rows_burst.max(1)),
                        body_prefix_bytes: svc.http.rejection_body_prefix_bytes,
                        body_bytes_per_hour: svc.http.rejection_body_bytes_per_hour as f64,
                        onboarding_body_bytes: svc.http.rejection_onboarding_body_bytes as f64,
                    }),
            );
            let drain = Duration::from_secs(svc.http.shutdown_deadline_secs.max(1));
            let tls = if svc.http.tls_cert_file.is_empty() {
                None
            } else {
                let files = hookgate_ingress::tls::TlsFiles {
                    cert: svc.http.tls_cert_file.clone().into(),
                    key: svc.http.tls_key_file.clone().into(),
                    check_every: Duration::from_millis(svc.http.tls_reload_check_ms),
                };
                Some(hookgate_ingress::tls::server_config(files).context("http.tls_cert_file / http.tls_key_file")?)
            };
            Some(IngressServer::build_with_tls(
                listener,
                state,
                svc.http.workers,
                drain,
                shutdown,
                tls,
            )?)
        };
        let notifier = notify::Notifier::new(store.clone(), &svc.watch, live.clone(), metrics.clone()).map(Arc::new);
        Ok(Gateway {
            store,
            metrics,
            server,
            admin,
            admin_state,
            dispatchers,
            reloader,
            watch: svc.tenants_watch,
            retention: (loops > 0 && svc.retention.enabled).then(|| svc.retention.clone()),
            watcher,
            notifier,
            ingress_tasks,
            spool_reports,
            publisher: gateway_publisher,
            live,
            #[cfg(unix)]
            hup,
        })
    }

    /// The HTTP port, when this gateway serves HTTP.
    pub fn port(&self) -> Option<u16> {
        self.server.as_ref().map(IngressServer::port)
    }

    /// The evaluator of source health and incidents (tests run its rounds
    /// with their own clock when `watch.enabled` is off).
    pub fn watcher(&self) -> Arc<watch::Watcher> {
        self.watcher.0.clone()
    }

    /// The port of the operations listener.
    pub fn admin_port(&self) -> u16 {
        self.admin.port()
    }

    /// Runs until `shutdown` is cancelled; then `/readyz` turns 503, the
    /// webhook listener finishes in-flight requests, the relays their batch,
    /// the operations listener stops last, and the pool closes.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let tracker = TaskTracker::new();
        if let Some(tasks) = self.ingress_tasks {
            tracker.spawn(tasks.run(shutdown.clone()));
        }
        if let Some(reports) = self.spool_reports {
            tracker.spawn(report_spooled(reports, self.store.clone(), self.metrics.clone()));
        }
        let dispatchers: Vec<Arc<Dispatcher>> = self.dispatchers.into_iter().map(Arc::new).collect();
        for d in &dispatchers {
            tracker.spawn(supervise(d.clone(), self.metrics.clone(), shutdown.clone()));
        }
        // One replay runner per process that relays (jobs are taken one at a
        // time under a lease, so several processes share them).
        if let Some(d) = dispatchers.first().cloned() {
            let stop = shutdown.clone();
            tracker.spawn(async move { d.run_replays(stop).await });
        }
        // The console's traffic rollup, from this process's tally.
        tracker.spawn(hookgate_ingress::traffic::run(
            self.store.clone(),
            self.metrics.clone(),
            TRAFFIC_FLUSH,
            shutdown.clone(),
        ));
        if let (w, Some(every)) = self.watcher.clone() {
            tracker.spawn(w.run(every, shutdown.clone()));
        }
        if let Some(n) = self.notifier.clone() {
            tracker.spawn(n.run(Duration::from_secs(2), shutdown.clone()));
        }
        if let Some(settings) = self.retention.clone() {
            tracker.spawn(retain(
                self.store.clone(),
                self.live.clone(),
                settings,
                shutdown.clone(),
            ));
        }
        if let Some(r) = &self.reloader {
            #[cfg(unix)]
            if let Some(hup) = self.hup {
                tracker.spawn(r.clone().on_sighup(hup, shutdown.clone()));
            }
            if let Some(every) = self.watch {
                tracker.spawn(r.clone().watch(every, shutdown.clone()));
            }
        }
        let admin_handle = self.admin.handle();
        let admin = tokio::spawn(self.admin.run());
        let admin_state = self.admin_state.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            stop.cancelled().await;
            admin_state.stop_accepting();
        });
        let served = match self.server {
            Some(server) => server.run().await.context("HTTP server"),
            None => {
                shutdown.cancelled().await;
                Ok(())
            }
        };
        shutdown.cancel();
        tracker.close();
        tracker.wait().await;
        admin_handle.stop(true).await;
        let _ = admin.await;
        // Relays and the evaluator have stopped: the broker connections
        // close before the pool, so nothing is published after the last commit.
        self.publisher.close().await;
        self.store.close().await;
        served
    }
}

/// Applies retention every `interval_secs` (the first time one interval
/// after start) until `shutdown`; a failed round is logged and retried at
/// the next.
async fn retain(
    store: Store,
    live: LiveTenants,
    settings: hookgate_config::RetentionSettings,
    shutdown: CancellationToken,
) {
    let every = Duration::from_secs(settings.interval_secs);
    let open_for = Duration::from_secs(u64::from(settings.partition_hours) * 3600);
    loop {
        // A partition due opens at start and at every round (so at most
        // `interval_secs` late).
        if let Err(e) = store.roll_partitions(open_for).await {
            tracing::warn!(error = %hookgate_core::Chain(&e), "opening a notification partition failed; retried at the next round");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        if let Err(e) = hookgate_admin::retention::apply(&store, &live.load(), &settings).await {
            tracing::warn!(error = %hookgate_core::Chain(&e), "retention failed; retried at the next round");
        }
    }
}

/// Hides the password of a URL for messages.
pub fn redact_url(url: &str) -> String {
    // Several URLs (the nodes of a cluster), each redacted.
    if url.contains(',') {
        return url.split(',').map(redact_url).collect::<Vec<_>>().join(",");
    }
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &creds[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_node_of_a_url_list_is_redacted() {
        assert_eq!(
            super::redact_url("amqp://u:p1@a:5672/%2f,amqp://u:p2@b:5672/%2f"),
            "amqp://u:***@a:5672/%2f,amqp://u:***@b:5672/%2f"
        );
    }

    #[test]
    fn a_reachable_admin_listener_needs_a_token() {
        let mut admin = hookgate_config::ServiceSettings::defaults().unwrap().admin;
        let public: std::net::SocketAddr = "0.0.0.0:8081".parse().unwrap();
        let local: std::net::SocketAddr = "127.0.0.1:8081".parse().unwrap();
        let err = super::check_admin_exposure(public, &admin).unwrap_err().to_string();
        assert!(err.contains("no admin token"), "{err}");
        assert!(
            super::check_admin_exposure(local, &admin).is_ok(),
            "loopback: locked, with a warning"
        );
        admin.tokens.push(hookgate_config::AdminToken {
            name: "ops".into(),
            secret: hookgate_config::Secret::new("s"),
            scopes: vec![hookgate_config::AdminScope::Read],
            tenants: None,
        });
        assert!(super::check_admin_exposure(public, &admin).is_ok());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact_url("amqp://guest:guest@h:5672/%2f"),
            "amqp://guest:***@h:5672/%2f"
        );
        assert_eq!(
            super::redact_url("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
    }
}
