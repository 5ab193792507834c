//! HTTP ingress: `POST /hooks/{tenant}/{source}` authenticates each request
//! with the provider's scheme, stores it raw together with its outbox row in
//! one transaction, and only then answers the body that provider expects.
//! Also serves `/healthz`; metrics and readiness are on the operations
//! listener (`hookgate-admin`), never on this public port.
//!
//! Architecture invariants: this is the only crate that names actix-web; it
//! never talks to RabbitMQ or Redis (readiness of those comes in through
//! [`hookgate_core::ReadinessProbe`]); it meets the dispatcher only in the
//! outbox table. No 2xx is sent for a webhook before its commit.

mod budget;

pub use budget::small_reserve;
mod handler;
pub mod keyring;
mod kinds;
mod lag;
mod ops;
mod proofs;
pub mod readmit;
mod reason;
mod rejections;
pub mod spool;
pub mod tls;
pub mod traffic;

pub use rejections::RejectionLimits;

use actix_web::{web, App, HttpServer};
use hookgate_config::LiveTenants;
use hookgate_store::{GroupWriter, Store};
use hookgate_telemetry::Metrics;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// What one process lets unauthenticated clients hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest time for the request line and headers to arrive.
    pub header_read_timeout: Duration,
    /// Longest time for a whole body to arrive (→ 408).
    pub body_read_timeout: Duration,
    /// Body bytes held in memory at once, by every request together (beyond → 503).
    pub max_body_bytes_in_memory: usize,
    /// Of those, the bytes only bodies of at most 64 KiB may use.
    pub small_body_reserve_bytes: usize,
    /// Body bytes the requests of one peer address may hold (0: no cap).
    pub max_body_bytes_per_peer: usize,
    /// Body bytes the requests to one source may hold (0: no cap).
    pub max_body_bytes_per_source: usize,
    /// Webhook requests one peer address may have in flight (0: no cap).
    pub max_in_flight_per_peer: usize,
    /// Webhook requests handled at once (beyond → 503 + Retry-After at once).
    pub max_in_flight: usize,
    /// Webhooks waiting for or inside a group commit at once (beyond → 503
    /// + Retry-After at once): bounds the wait when the database is behind.
    pub max_in_flight_commits: usize,
    /// Longest lag of an HTTP worker's event loop before new webhooks are
    /// shed with 503 (CPU saturation; see `lag.rs`). Zero: never.
    pub max_worker_lag: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(5),
            body_read_timeout: Duration::from_secs(10),
            max_body_bytes_in_memory: 64 * 1024 * 1024,
            small_body_reserve_bytes: 8 * 1024 * 1024,
            max_body_bytes_per_peer: 16 * 1024 * 1024,
            max_body_bytes_per_source: 16 * 1024 * 1024,
            max_in_flight_per_peer: 256,
            max_in_flight: 1024,
            max_in_flight_commits: 1024,
            max_worker_lag: Duration::from_millis(250),
        }
    }
}

/// [`Limits`] as semaphores shared by every worker.
#[derive(Debug)]
struct Budgets {
    header_read_timeout: Duration,
    body_read_timeout: Duration,
    body_budget: budget::BodyBudget,
    in_flight: Arc<Semaphore>,
    commits: Arc<Semaphore>,
    max_worker_lag: Duration,
}

impl From<Limits> for Budgets {
    fn from(l: Limits) -> Self {
        Budgets {
            header_read_timeout: l.header_read_timeout,
            body_read_timeout: l.body_read_timeout,
            body_budget: budget::BodyBudget::new(budget::Sizes {
                process: l.max_body_bytes_in_memory,
                small_reserve: l.small_body_reserve_bytes,
                per_peer: l.max_body_bytes_per_peer,
                per_source: l.max_body_bytes_per_source,
                in_flight_per_peer: l.max_in_flight_per_peer,
            }),
            in_flight: Arc::new(Semaphore::new(l.max_in_flight.clamp(1, Semaphore::MAX_PERMITS))),
            commits: Arc::new(Semaphore::new(l.max_in_flight_commits.clamp(1, Semaphore::MAX_PERMITS))),
            max_worker_lag: l.max_worker_lag,
        }
    }
}

/// Shared state of the HTTP handlers.
#[derive(Debug)]
pub struct IngressState {
    /// The running tenants; each request works on one snapshot of them.
    tenants: LiveTenants,
    store: Store,
    writer: GroupWriter,
    metrics: Arc<Metrics>,
    keys: keyring::KeyRing,
    limits: Budgets,
    rejections: rejections::RejectionGate,
    /// Which sources have proven their recipe (onboarding otherwise).
    proofs: proofs::Proofs,
    /// The local journal answered from while PostgreSQL is away (`[spool]`).
    spool: Option<spool::Spool>,
    /// Peers whose `X-Forwarded-Proto` names the scheme of the request URL.
    trusted_proxies: Arc<[hookgate_core::Cidr]>,
}

/// The tasks an [`IngressState`] needs running: its group-commit writers
/// and its registered-keys listener. Whoever owns the state runs them (the
/// composition root, under its task tracker).
#[derive(Debug)]
pub struct IngressTasks {
    writers: hookgate_store::Writers,
    keys: keyring::KeyListener,
    /// The spool's drainer, when the state answers from a spool, and where
    /// it reports a spell of spooling once it is over.
    drain: Option<SpoolDrain>,
}

/// A spool's drainer: the spool, the writer it commits through, the
/// metrics, and where it reports each spell of spooling once it is over.
type SpoolDrain = (
    spool::Spool,
    GroupWriter,
    Store,
    Arc<Metrics>,
    Option<tokio::sync::mpsc::UnboundedSender<spool::Drained>>,
);

impl IngressTasks {
    /// Runs the writers until the state is dropped (after the server drained
    /// its requests, whose commits they answer) and the key listener until
    /// `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let drain = async {
            if let Some((spool, writer, store, metrics, reports)) = self.drain {
                spool.drain(writer, store, metrics, reports, shutdown.clone()).await;
            }
        };
        futures_util::future::join3(self.writers.run(), self.keys.run(shutdown.clone()), drain).await;
    }

    /// Also runs `spool`'s drainer, committing through `state`'s writer
    /// (the state answers from the same spool: [`IngressState::with_spool`]).
    pub fn with_spool_drain(
        mut self,
        spool: spool::Spool,
        state: &IngressState,
        reports: Option<tokio::sync::mpsc::UnboundedSender<spool::Drained>>,
    ) -> Self {
        self.drain = Some((
            spool,
            state.writer.clone(),
            state.store.clone(),
            state.metrics.clone(),
            reports,
        ));
        self
    }
}

/// A proxy on this host: `http.trusted_proxies`' default.
fn default_trusted_proxies() -> Arc<[hookgate_core::Cidr]> {
    ["127.0.0.1/32", "::1/128"]
        .iter()
        .filter_map(|c| hookgate_core::Cidr::parse(c).ok())
        .collect()
}

impl IngressState {
    /// Builds the state from its parts, with the tasks it needs (the
    /// group-commit writers, `writers` of them, up to `max_batch` rows per
    /// commit, and the key listener), for the caller to run.
    pub fn build(
        tenants: impl Into<LiveTenants>,
        store: Store,
        metrics: Arc<Metrics>,
        writers: usize,
        max_batch: usize,
    ) -> (Self, IngressTasks) {
        let (writer, writers) = GroupWriter::new(store.clone(), writers, max_batch);
        let (keys, listener) = keyring::KeyRing::new(&store, keyring::DEFAULT_REFRESH_EVERY);
        let state = IngressState {
            tenants: tenants.into(),
            store,
            writer,
            metrics,
            keys,
            limits: Limits::default().into(),
            rejections: rejections::RejectionGate::new(RejectionLimits::default()),
            proofs: proofs::Proofs::default(),
            spool: None,
            trusted_proxies: default_trusted_proxies(),
        };
        (
            state,
            IngressTasks {
                writers,
                keys: listener,
                drain: None,
            },
        )
    }

    /// [`IngressState::build`] with its tasks spawned on the current
    /// runtime (tests; the gateway owns them).
    pub fn new(
        tenants: impl Into<LiveTenants>,
        store: Store,
        metrics: Arc<Metrics>,
        writers: usize,
        max_batch: usize,
    ) -> Self {
        let (state, tasks) = IngressState::build(tenants, store, metrics, writers, max_batch);
        tokio::spawn(tasks.run(CancellationToken::new()));
        state
    }

    /// The proxies whose `X-Forwarded-Proto` / `Forwarded: proto=` says the
    /// scheme a provider called with (`http.trusted_proxies`; default: loopback).
    pub fn with_trusted_proxies(mut self, proxies: Vec<hookgate_core::Cidr>) -> Self {
        self.trusted_proxies = proxies.into();
        self
    }

    /// Answers verified requests from `spool` while PostgreSQL is away; the
    /// spool's drainer ([`spool::Spool::drain`]) is its owner's to run.
    pub fn with_spool(mut self, spool: spool::Spool) -> Self {
        self.spool = Some(spool);
        self
    }

    /// The group-commit writer (the spool's drainer commits through it).
    pub fn writer(&self) -> GroupWriter {
        self.writer.clone()
    }

    /// Replaces the default [`RejectionLimits`].
    pub fn with_rejection_limits(mut self, limits: RejectionLimits) -> Self {
        self.rejections = rejections::RejectionGate::new(limits);
        self
    }

    /// Replaces the default [`Limits`].
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits.into();
        self
    }

    /// How often keys providers returned at registration are reloaded
    /// (default [`keyring::DEFAULT_REFRESH_EVERY`]).
    pub fn with_registered_keys_refresh(mut self, every: Duration) -> Self {
        self.keys = self.keys.with_refresh_every(every);
        self
    }
}

/// Registers every route; used by the server and by tests alike. Another
/// method on a webhook URL is 405; any other path is 404 (both counted and
/// recorded as rejections, see `handler::unmatched`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/hooks/{tenant}/{source}")
            .route(web::post().to(handler::receive))
            .default_service(web::to(handler::method_not_allowed)),
    )
    .route("/healthz", web::get().to(ops::healthz))
    .default_service(web::to(handler::unmatched));
}

/// A running HTTP server.
pub struct IngressServer {
    port: u16,
    server: actix_web::dev::Server,
}

impl std::fmt::Debug for IngressServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngressServer")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl IngressServer {
    /// Binds the server on an already bound listener (port 0 for tests) and
    /// prepares it to run until `shutdown` is cancelled, then drain in-flight
    /// requests for up to `drain`.
    pub fn build(
        listener: TcpListener,
        state: Arc<IngressState>,
        workers: usize,
        drain: Duration,
        shutdown: CancellationToken,
    ) -> std::io::Result<IngressServer> {
        Self::build_with_tls(listener, state, workers, drain, shutdown, None)
    }

    /// [`IngressServer::build`], serving TLS with `tls` when given.
    pub fn build_with_tls(
        listener: TcpListener,
        state: Arc<IngressState>,
        workers: usize,
        drain: Duration,
        shutdown: CancellationToken,
        tls: Option<rustls::ServerConfig>,
    ) -> std::io::Result<IngressServer> {
        let port = listener.local_addr()?.port();
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            // Called once on each worker: measure that worker's lag.
            actix_web::rt::spawn(lag::tick());
            App::new().app_data(data.clone()).configure(routes)
        })
        // A head not received in time closes the connection (actix answers 408).
        .client_request_timeout(state.limits.header_read_timeout);
        let server = match tls {
            Some(config) => server.listen_rustls_0_23(listener, config)?,
            None => server.listen(listener)?,
        };
        let mut server = server.disable_signals().shutdown_timeout(drain.as_secs().max(1));
        if workers > 0 {
            server = server.workers(workers);
        }
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(async move {
            shutdown.cancelled().await;
            handle.stop(true).await;
        });
        Ok(IngressServer { port, server })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until stopped.
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}
