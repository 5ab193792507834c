//! The operations listener (`[admin] listen`, default `127.0.0.1:8081`),
//! apart from the public webhook port so that neither scrapers nor
//! providers see the other's surface:
//! - `/metrics`, `/readyz`, `/healthz` for scrapers and probes (no token);
//! - the admin API under `/v1` (bearer tokens with scopes and tenant
//!   limits, see `auth.rs`): notifications and their events, a subject's
//!   timeline, replay jobs, parked rows and their requeue, rejections and
//!   their re-admission, tenants, the audit log of every mutating call;
//! - `/openapi.json`, the API's document generated from the code;
//! - the operator console at `/` (`console/`: server-rendered pages, a
//!   session cookie from a token, CSRF-checked forms), standing on the
//!   same operations layer (`ops.rs`) as the API.
//!
//! Architecture invariants: besides `ingress`, the only crate that names
//! actix-web; it never takes webhooks and never publishes: a replay is a
//! job in PostgreSQL that the relays run, a requeue puts rows back in the
//! outbox, a re-admission goes through ingress's own checks.

mod api;
mod auth;
mod console;
mod error;
pub mod openapi;
mod ops;
pub mod retention;

pub use api::reload::{Reload, ReloadStatus};
pub use api::watch::Health;
pub use error::{ApiError, ErrorBody};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hookgate_config::{AdminToken, LiveTenants, RetentionSettings, Tenants};
use hookgate_core::ReadinessProbe;
use hookgate_store::Store;
use hookgate_telemetry::Metrics;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long one readiness check or the outbox gauges may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// What the operations endpoints read.
#[derive(Debug)]
pub struct AdminState {
    store: Store,
    metrics: Arc<Metrics>,
    probes: Vec<Arc<dyn ReadinessProbe>>,
    accepting: AtomicBool,
    keys: Vec<auth::Key>,
    tenants: LiveTenants,
    public_base_url: String,
    replay_rate_per_sec: i32,
    reload: Option<Arc<dyn Reload>>,
    retention: RetentionSettings,
    health: Option<Arc<dyn Health>>,
    signed_out: console::session::SignedOut,
    /// Ingress answers from a spool while PostgreSQL is away: PostgreSQL
    /// unreachable is then a degradation, not "not ready".
    spooling: bool,
}

/// What the admin API needs besides the store.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Bearer tokens (none: every `/v1` route answers 401).
    pub tokens: Vec<AdminToken>,
    /// The tenants as the gateway runs them (reloads show at once).
    pub tenants: LiveTenants,
    /// `http.public_base_url`, for the sources' URLs.
    pub public_base_url: String,
    /// Default rate of replay jobs.
    pub replay_rate_per_sec: i32,
    /// What reloads the tenant files (`None`: not started from files).
    pub reload: Option<Arc<dyn Reload>>,
    /// Retention settings (the service default).
    pub retention: RetentionSettings,
    /// What assesses source health (`None`: the evaluator is not built).
    pub health: Option<Arc<dyn Health>>,
}

impl AdminState {
    /// PostgreSQL unreachable is a degradation, not "not ready": this
    /// process's ingress answers from a spool meanwhile.
    pub fn with_spooling(mut self, spooling: bool) -> Self {
        self.spooling = spooling;
        self
    }

    /// The state of one process: its store, metrics and the probes of its role.
    pub fn new(store: Store, metrics: Arc<Metrics>, probes: Vec<Arc<dyn ReadinessProbe>>) -> AdminState {
        AdminState {
            store,
            metrics,
            probes,
            accepting: AtomicBool::new(true),
            keys: Vec::new(),
            tenants: LiveTenants::new(Tenants::default()),
            public_base_url: String::new(),
            replay_rate_per_sec: 500,
            reload: None,
            retention: RetentionSettings {
                enabled: false,
                days: 30,
                interval_secs: 3600,
                batch: 5000,
                partition_hours: 24,
            },
            health: None,
            spooling: false,
            signed_out: console::session::SignedOut::default(),
        }
    }

    /// Serves the admin API with these tokens and tenants.
    pub fn with_api(mut self, api: ApiSettings) -> AdminState {
        self.keys = api.tokens.iter().map(auth::Key::new).collect();
        self.tenants = api.tenants;
        self.public_base_url = api.public_base_url;
        self.replay_rate_per_sec = api.replay_rate_per_sec;
        self.reload = api.reload;
        self.retention = api.retention;
        self.health = api.health;
        self
    }

    /// The tenants as configured now.
    pub(crate) fn tenants(&self) -> Arc<Tenants> {
        self.tenants.load()
    }

    /// Makes `/readyz` answer 503 (shutdown has begun).
    pub fn stop_accepting(&self) {
        self.accepting.store(false, Ordering::SeqCst);
    }
}

/// Registers the operations routes; used by the server and by tests alike.
/// Malformed queries, paths and bodies get a JSON 400 like every other
/// refusal of the API.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(|e, _| ApiError::bad_request(e.to_string()).into()))
        .app_data(web::PathConfig::default().error_handler(|e, _| ApiError::bad_request(e.to_string()).into()))
        .app_data(
            web::JsonConfig::default()
                .limit(64 * 1024)
                .error_handler(|e, _| ApiError::bad_request(e.to_string()).into()),
        )
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics))
        .route("/openapi.json", web::get().to(openapi_json));
    api::configure(&mut utoipa_actix_web::service_config::ServiceConfig::new(cfg));
    // Last: the console's scope takes every path the API did not.
    console::configure(cfg);
}

/// Every request of the operations listener runs in one root span
/// (`admin.request`: method, route pattern, status), so an admin call, its
/// audit row and its database work share a trace. Client text (the path) is
/// recorded escaped.
async fn root_span(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use tracing::Instrument;
    let span = tracing::info_span!(
        "admin.request",
        http.method = %req.method(),
        http.route = tracing::field::Empty,
        url.path = %req.path().escape_debug(),
        http.status = tracing::field::Empty,
    );
    let response = next.call(req).instrument(span.clone()).await?;
    // The route is known once the request was routed.
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    span.record("http.route", route.as_str());
    span.record("http.status", response.status().as_u16());
    Ok(response)
}

/// `GET /openapi.json`: the admin API's OpenAPI document.
async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(openapi::document())
}

/// `GET /healthz`: the process serves HTTP.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// One dependency's state, as `/readyz` and the console show it.
#[derive(Debug, Clone)]
pub(crate) struct Dependency {
    /// `postgres`, `rabbitmq`, `redis`, `relays`.
    pub name: &'static str,
    /// `Err`: why it is not ready.
    pub result: Result<(), String>,
    /// Up, but not wholly (e.g. one vhost down).
    pub degraded: Option<String>,
}

/// PostgreSQL and every probe of this process's role, checked at once
/// (each within two seconds).
pub(crate) async fn dependencies(state: &AdminState) -> Vec<Dependency> {
    let mut pg = match tokio::time::timeout(CHECK_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".to_owned()),
    };
    // With a spool, ingress still answers: the process stays in service.
    let mut pg_degraded = None;
    if state.spooling {
        if let Err(e) = pg {
            pg_degraded = Some(format!("unreachable ({e}); verified webhooks are spooled"));
            pg = Ok(());
        }
    }
    let probes = futures_util::future::join_all(state.probes.iter().map(|p| async move {
        let result = match tokio::time::timeout(CHECK_TIMEOUT, p.check()).await {
            Ok(r) => r,
            Err(_) => Err("timed out".to_owned()),
        };
        let degraded = tokio::time::timeout(CHECK_TIMEOUT, p.degraded()).await.ok().flatten();
        Dependency {
            name: p.name(),
            result,
            degraded,
        }
    }))
    .await;
    std::iter::once(Dependency {
        name: "postgres",
        result: pg,
        degraded: pg_degraded,
    })
    .chain(probes)
    .collect()
}

/// `GET /readyz`: PostgreSQL and every probe of this process's role answer.
async fn readyz(state: web::Data<AdminState>) -> HttpResponse {
    let mut checks = serde_json::Map::new();
    let mut ready = state.accepting.load(Ordering::SeqCst);
    if !ready {
        checks.insert("shutdown".into(), "in progress".into());
    }
    let mut degraded = serde_json::Map::new();
    for d in dependencies(&state).await {
        ready &= d.result.is_ok();
        checks.insert(d.name.into(), d.result.err().unwrap_or_else(|| "ok".into()).into());
        if let Some(part) = d.degraded {
            degraded.insert(d.name.into(), part.into());
        }
    }
    let mut body = serde_json::json!({ "status": if ready { "ready" } else { "not ready" }, "checks": checks });
    if !degraded.is_empty() {
        body["degraded"] = degraded.into();
    }
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// `GET /metrics`: OpenMetrics when the scraper asks for it in `Accept`
/// (Prometheus does), else the Prometheus text format 0.0.4; the outbox
/// gauges are refreshed first.
async fn metrics(req: HttpRequest, state: web::Data<AdminState>) -> HttpResponse {
    if let Ok(Ok(s)) = tokio::time::timeout(CHECK_TIMEOUT, state.store.outbox_stats()).await {
        state.metrics.outbox(s.pending, s.parked, s.oldest_pending_secs);
    }
    let openmetrics = req
        .headers()
        .get_all(actix_web::http::header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    if openmetrics {
        HttpResponse::Ok()
            .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
            .body(state.metrics.render())
    } else {
        HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(state.metrics.render_text())
    }
}

/// A running operations listener.
pub struct AdminServer {
    port: u16,
    server: actix_web::dev::Server,
}

impl std::fmt::Debug for AdminServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminServer")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl AdminServer {
    /// Serves on an already bound listener (port 0 for tests), one worker.
    /// It runs until [`AdminServer::handle`] stops it: the composition root
    /// stops it last, after the webhook listener drained, and turns
    /// `/readyz` to 503 ([`AdminState::stop_accepting`]) when shutdown begins.
    pub fn build(listener: TcpListener, state: Arc<AdminState>) -> std::io::Result<AdminServer> {
        let port = listener.local_addr()?.port();
        let data = web::Data::from(state);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .wrap(actix_web::middleware::from_fn(root_span))
                .configure(routes)
        })
        .listen(listener)?
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .run();
        Ok(AdminServer { port, server })
    }

    /// A handle that stops the listener.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
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
