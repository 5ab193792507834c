//! HTTP ingress: `POST /hooks/{tenant}/{source}` authenticates each request
//! with the provider's scheme, stores it raw together with its outbox row in
//! one transaction, and only then answers the body that provider expects.
//! Also serves `/healthz`, `/readyz` and `/metrics`.
//!
//! Architecture invariants: this is the only crate that names actix-web; it
//! never talks to RabbitMQ or Redis (readiness of those comes in through
//! [`hookgate_core::ReadinessProbe`]); it meets the dispatcher only in the
//! outbox table. No 2xx is sent for a webhook before its commit.

mod handler;
pub mod keyring;
mod kinds;
mod ops;

use actix_web::{web, App, HttpServer};
use hookgate_config::Tenants;
use hookgate_core::ReadinessProbe;
use hookgate_store::{GroupWriter, Store};
use hookgate_telemetry::Metrics;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Shared state of the HTTP handlers.
#[derive(Debug)]
pub struct IngressState {
    tenants: Tenants,
    store: Store,
    writer: GroupWriter,
    metrics: Arc<Metrics>,
    probes: Vec<Arc<dyn ReadinessProbe>>,
    accepting: AtomicBool,
    keys: keyring::KeyRing,
}

impl IngressState {
    /// Builds the state from its parts; starts the group-commit writers
    /// (`writers` tasks, up to `max_batch` rows per commit) on the current runtime.
    pub fn new(
        tenants: Tenants,
        store: Store,
        metrics: Arc<Metrics>,
        probes: Vec<Arc<dyn ReadinessProbe>>,
        writers: usize,
        max_batch: usize,
    ) -> Self {
        let writer = GroupWriter::start(store.clone(), writers, max_batch);
        let keys = keyring::KeyRing::new(&store, keyring::DEFAULT_REFRESH_EVERY);
        IngressState {
            tenants,
            store,
            writer,
            metrics,
            probes,
            accepting: AtomicBool::new(true),
            keys,
        }
    }

    /// How often keys providers returned at registration are reloaded
    /// (default [`keyring::DEFAULT_REFRESH_EVERY`]).
    pub fn with_registered_keys_refresh(mut self, every: Duration) -> Self {
        self.keys = self.keys.with_refresh_every(every);
        self
    }

    /// Makes `/readyz` answer 503 (shutdown has begun).
    pub fn stop_accepting(&self) {
        self.accepting.store(false, Ordering::SeqCst);
    }
}

/// Registers every route; used by the server and by tests alike.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/hooks/{tenant}/{source}", web::post().to(handler::receive))
        .route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics));
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
        let port = listener.local_addr()?.port();
        let data = web::Data::from(state.clone());
        let mut server = HttpServer::new(move || App::new().app_data(data.clone()).configure(routes))
            .listen(listener)?
            .disable_signals()
            .shutdown_timeout(drain.as_secs().max(1));
        if workers > 0 {
            server = server.workers(workers);
        }
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(async move {
            shutdown.cancelled().await;
            state.stop_accepting();
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
