//! Test-only helpers. Every test owns its resources: a fresh PostgreSQL
//! database, a random tenant with its own exchange and alternate
//! exchange/queue, a random Redis key prefix; all removed when the
//! [`TestEnv`] is dropped. The services are the real local ones (settings
//! come from the built-in defaults, overridable with `HOOKGATE__*`).

use hookgate_cli::gateway::{Gateway, Role};
use hookgate_config::{KeetaSource, Secret, ServiceSettings, Settings, Source, SourceAuth, Tenant, Verification};
use hookgate_core::{SourceId, SourceKind, TenantId};
use hookgate_dispatcher::{Received, Subscription};
use hookgate_store::{PoolConfig, Store};
use hookgate_telemetry::Metrics;
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use hookgate_cli::simulate::keeta;

/// App id of test Keeta sources.
pub const KEETA_APP_ID: i64 = 1_000_001;

/// A short random lowercase id.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", &Uuid::new_v4().simple().to_string()[..12])
}

/// Service settings for tests: defaults (+ `HOOKGATE__*` environment) with
/// fast polling and short dedupe windows.
pub fn service_settings() -> ServiceSettings {
    let mut s =
        ServiceSettings::load(Path::new("/nonexistent-hookgate-config")).unwrap_or_else(|e| panic!("settings: {e}"));
    s.dispatcher.poll_interval_ms = 100;
    s.dispatcher.backoff_base_ms = 50;
    s.dispatcher.backoff_max_ms = 500;
    s.dispatcher.confirm_timeout_ms = 5_000;
    s.redis.dedupe_ttl_secs = 600;
    s.http.workers = 1;
    s.database.max_connections = 8;
    s
}

/// A Keeta source for tests.
pub fn keeta_source(id: &str, secret: &str, callback_url: &str, verification: Verification) -> Source {
    Source {
        id: SourceId::parse(id).unwrap_or_else(|e| panic!("{e}")),
        kind: SourceKind::Keeta,
        body_limit_bytes: 1024 * 1024,
        auth: SourceAuth::Keeta(KeetaSource {
            app_id: Some(KEETA_APP_ID),
            app_secrets: vec![Secret::new(secret)],
            callback_url: callback_url.to_owned(),
            verification,
            recipes: hookgate_signature_recipes(),
        }),
    }
}

fn hookgate_signature_recipes() -> Vec<hookgate_signature::keeta::Recipe> {
    hookgate_signature::keeta::Recipe::ALL.to_vec()
}

/// One test's world: settings pointing at its own database, tenant,
/// exchanges and key prefix.
#[derive(Debug)]
pub struct TestEnv {
    /// Settings (edit before starting a gateway).
    pub settings: Settings,
    /// The tenant id.
    pub tenant: String,
    /// Secret of the tenant's `keeta` source.
    pub keeta_secret: String,
    /// Callback URL of the `keeta` source (used in signatures).
    pub callback_url: String,
    db_url: String,
    exchanges: Vec<String>,
    queues: Vec<String>,
}

impl TestEnv {
    /// A tenant with one enforcing `keeta` source and a fresh migrated database.
    pub async fn new() -> TestEnv {
        TestEnv::with(|_| {}).await
    }

    /// Like [`TestEnv::new`], letting the caller adjust the tenant first.
    pub async fn with(adjust: impl FnOnce(&mut Tenant)) -> TestEnv {
        let mut service = service_settings();
        let tenant = unique("t");
        let db_name = unique("hookgate_test_");
        let db_url = replace_db(&service.database.url, &db_name);
        service.database.url = db_url.clone();
        service.rabbitmq.unrouted_exchange = format!("hookgate-test.unrouted.{tenant}");
        service.rabbitmq.unrouted_queue = format!("hookgate-test.unrouted.{tenant}");
        service.redis.key_prefix = format!("hookgate-test:{tenant}");
        let keeta_secret = unique("secret-");
        let callback_url = format!("https://hooks.example.test/hooks/{tenant}/keeta");
        let mut sources = BTreeMap::new();
        let src = keeta_source("keeta", &keeta_secret, &callback_url, Verification::Enforce);
        sources.insert(src.id.clone(), src);
        let mut t = Tenant {
            id: TenantId::parse(&tenant).unwrap_or_else(|e| panic!("{e}")),
            demo: false,
            exchange: format!("hookgate-test.{tenant}"),
            sources,
            file: PathBuf::from("testkit"),
        };
        adjust(&mut t);
        let exchanges = vec![t.exchange.clone(), service.rabbitmq.unrouted_exchange.clone()];
        let queues = vec![service.rabbitmq.unrouted_queue.clone()];
        let settings = Settings::with_tenants(service, vec![t]).unwrap_or_else(|e| panic!("{e}"));
        let store = Store::connect(&db_url, &PoolConfig::default(), true)
            .await
            .unwrap_or_else(|e| panic!("create test database: {e}"));
        store.migrate().await.unwrap_or_else(|e| panic!("migrate: {e}"));
        store.close().await;
        TestEnv {
            settings,
            tenant,
            keeta_secret,
            callback_url,
            db_url,
            exchanges,
            queues,
        }
    }

    /// A store on this test's database.
    pub async fn store(&self) -> Store {
        Store::connect(&self.db_url, &PoolConfig::default(), false)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The tenant's exchange.
    pub fn exchange(&self) -> String {
        self.settings
            .tenants
            .iter()
            .next()
            .map(|t| t.exchange.clone())
            .unwrap_or_default()
    }

    /// A signed Keeta webhook body for `event_id`; returns (body, messageId).
    pub fn keeta_webhook(&self, event_id: i64, seq: u64) -> (Vec<u8>, String) {
        let now_ms = 1_795_000_000_000 + seq as i64;
        let message_id = format!("{}{seq:08}", &Uuid::new_v4().as_u128().to_string()[..10]);
        let message = keeta::message(event_id, seq, 145_541, now_ms);
        let env = keeta::envelope(KEETA_APP_ID, event_id, &message_id, 145_541, &message, now_ms / 1000);
        (
            keeta::signed_body(env, &self.callback_url, &self.keeta_secret),
            message_id,
        )
    }

    /// A temporary queue bound to the tenant exchange with `bindings`.
    pub async fn subscribe(&self, bindings: &[&str]) -> Subscription {
        let r = &self.settings.service.rabbitmq;
        let bindings: Vec<String> = bindings.iter().map(|b| (*b).to_owned()).collect();
        Subscription::open(&r.url, &self.exchange(), &r.unrouted_exchange, &bindings)
            .await
            .unwrap_or_else(|e| panic!("subscribe: {e}"))
    }

    /// Starts a gateway on 127.0.0.1, port 0.
    pub async fn start(&self, role: Role) -> TestGateway {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let shutdown = CancellationToken::new();
        let gateway = Gateway::build(&self.settings, role, Some(listener), shutdown.clone())
            .await
            .unwrap_or_else(|e| panic!("gateway: {e:#}"));
        let port = gateway.port().unwrap_or(0);
        let store = gateway.store.clone();
        let metrics = gateway.metrics.clone();
        let task = tokio::spawn(gateway.run(shutdown.clone()));
        TestGateway {
            base_url: format!("http://127.0.0.1:{port}"),
            store,
            metrics,
            shutdown,
            task: Some(task),
        }
    }
}

fn replace_db(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let db_url = self.db_url.clone();
        let amqp = self.settings.service.rabbitmq.url.clone();
        let (exchanges, queues) = (self.exchanges.clone(), self.queues.clone());
        // Drop runs outside async context guarantees: clean up on a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    if let Err(e) = Store::drop_database(&db_url).await {
                        eprintln!("testkit: could not drop {db_url}: {e}");
                    }
                    let _ = hookgate_dispatcher::amqp::delete_topology(&amqp, &exchanges, &queues).await;
                });
            }
        });
        let _ = cleanup.join();
    }
}

/// A gateway running inside the test process.
#[derive(Debug)]
pub struct TestGateway {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// Its store.
    pub store: Store,
    /// Its metrics.
    pub metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestGateway {
    /// URL of a tenant source.
    pub fn hook_url(&self, tenant: &str, source: &str) -> String {
        format!("{}/hooks/{tenant}/{source}", self.base_url)
    }

    /// Stops it gracefully and waits.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
        }
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Receives `n` messages or fails after `timeout`.
pub async fn receive(sub: &mut Subscription, n: usize, timeout: Duration) -> Vec<Received> {
    let mut out = Vec::with_capacity(n);
    let deadline = tokio::time::Instant::now() + timeout;
    while out.len() < n {
        match tokio::time::timeout_at(deadline, sub.next()).await {
            Ok(Some(Ok(m))) => out.push(m),
            Ok(Some(Err(e))) => panic!("consume: {e}"),
            Ok(None) => panic!("consumer cancelled after {} of {n} messages", out.len()),
            Err(_) => panic!("timed out after {} of {n} messages", out.len()),
        }
    }
    out
}

/// Asserts that nothing more arrives within `quiet`.
pub async fn assert_no_more(sub: &mut Subscription, quiet: Duration) {
    if let Ok(Some(m)) = tokio::time::timeout(quiet, sub.next()).await {
        panic!(
            "unexpected extra message: {:?}",
            m.map(|m| (m.routing_key, String::from_utf8_lossy(&m.body).into_owned()))
        );
    }
}

/// A client for tests.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}
