//! Test-only helpers. Every test owns its resources: a fresh PostgreSQL
//! database, a random tenant with its own exchange and alternate
//! exchange/queue, a random Redis key prefix; all removed when the
//! [`TestEnv`] is dropped. The services are the real local ones (settings
//! come from the built-in defaults, overridable with `HOOKGATE__*`).

pub mod fake_providers;
pub mod proxy;

use hookgate_app::{Gateway, Listeners, Role};
use hookgate_config::{
    Access, BasicAuth, Secret, SecretBytes, ServiceSettings, Settings, Source, Tenant, Tenants, Verification,
};
use hookgate_core::{SourceId, SourceKind, TenantId};
use hookgate_dispatcher::{Dedupe, Dispatcher, Publisher, Received, Subscription};
use hookgate_providers::{PrivateKey, Sample, SampleContext, SourceSettings};
use hookgate_store::{PoolConfig, Store};
use hookgate_telemetry::Metrics;
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use hookgate_providers::keeta::sample as keeta;

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
    // Tests share two cores with many gateways at once: a slow scheduler
    // must not shed their webhooks (the test of shedding sets its own).
    s.http.max_worker_lag_ms = 0;
    s.database.max_connections = 8;
    s
}

/// A Keeta source for tests.
pub fn keeta_source(id: &str, secret: &str, callback_url: &str, verification: Verification) -> Source {
    source(
        id,
        hookgate_providers::keeta::KIND,
        verification,
        Arc::new(hookgate_providers::keeta::Settings {
            app_id: Some(KEETA_APP_ID),
            app_secrets: vec![Secret::new(secret)],
            callback_url: callback_url.to_owned(),
            recipes: hookgate_providers::keeta::signature::Recipe::ALL.to_vec(),
        }),
    )
}

fn source(id: &str, kind: SourceKind, verification: Verification, settings: Arc<dyn SourceSettings>) -> Source {
    Source {
        id: SourceId::parse(id).unwrap_or_else(|e| panic!("{e}")),
        kind,
        body_limit_bytes: 1024 * 1024,
        verification,
        access: Access::default(),
        settings,
        paths: Vec::new(),
        watch: Default::default(),
        stale_policy: Default::default(),
        credentials: Vec::new(),
    }
}

/// The demo BH key pair shipped in `config/demo/` (public, private PEM).
pub fn demo_bh_keys() -> (String, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/demo");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    (read("bh-public.pem"), read("bh-private.pem"))
}

/// One source of every other kind, with fresh secrets: `keeta-auth`,
/// `pagsmile-issuing` (basic auth), `pagsmile-payin`, `pagsmile-payout`,
/// `bh` (the demo key pair) and `webhooks` (Standard Webhooks).
fn other_sources(tenant: &str, base_url: &str) -> Vec<Source> {
    let (bh_public, _) = demo_bh_keys();
    let whsec = hookgate_signature::encode_base64(unique("whsec-").as_bytes());
    let mut issuing = source(
        "pagsmile-issuing",
        hookgate_providers::pagsmile::ISSUING,
        Verification::Enforce,
        Arc::new(hookgate_providers::pagsmile::IssuingSettings {
            timestamp_utc_offset_minutes: 0,
            access_configured: true,
            partner_id: None,
        }),
    );
    issuing.access.basic_auth = Some(BasicAuth {
        username: "pagsmile".into(),
        password: Secret::new(unique("pw-")),
    });
    vec![
        source(
            "keeta-auth",
            hookgate_providers::keeta_auth::KIND,
            Verification::Enforce,
            Arc::new(hookgate_providers::keeta_auth::Settings {
                client_id: None,
                client_secrets: vec![Secret::new(unique("cs-"))],
                callback_url: format!("{base_url}/hooks/{tenant}/keeta-auth"),
                recipes: hookgate_providers::keeta_auth::signature::Recipe::ALL.to_vec(),
            }),
        ),
        issuing,
        source(
            "pagsmile-payin",
            hookgate_providers::pagsmile::PAYIN,
            Verification::Enforce,
            Arc::new(hookgate_providers::pagsmile::PayinSettings {
                secrets: vec![Secret::new(unique("ps-"))],
                timestamp_tolerance_secs: 300,
            }),
        ),
        source(
            "pagsmile-payout",
            hookgate_providers::pagsmile::PAYOUT,
            Verification::Enforce,
            Arc::new(hookgate_providers::pagsmile::PayoutSettings {
                app_keys: vec![Secret::new(unique("ak-"))],
            }),
        ),
        source(
            "bh",
            hookgate_providers::bh::KIND,
            Verification::Enforce,
            Arc::new(hookgate_providers::bh::Settings {
                public_keys: vec![
                    hookgate_providers::bh::signature::PublicKey::parse(&bh_public).unwrap_or_else(|e| panic!("{e}"))
                ],
            }),
        ),
        source(
            "webhooks",
            hookgate_providers::standard_webhooks::KIND,
            Verification::Enforce,
            Arc::new(hookgate_providers::standard_webhooks::Settings {
                keys: vec![SecretBytes::new(
                    hookgate_providers::standard_webhooks::signature::secret_bytes(&format!("whsec_{whsec}"))
                        .unwrap_or_default(),
                )],
                tolerance_secs: 300,
            }),
        ),
    ]
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
        service.rabbitmq.ops_exchange = format!("hookgate-test.ops.{tenant}");
        service.redis.key_prefix = format!("hookgate-test:{tenant}");
        let keeta_secret = unique("secret-");
        let callback_url = format!("https://hooks.example.test/hooks/{tenant}/keeta");
        let mut sources = BTreeMap::new();
        let keeta = keeta_source("keeta", &keeta_secret, &callback_url, Verification::Enforce);
        for src in std::iter::once(keeta).chain(other_sources(&tenant, &service.http.public_base_url)) {
            sources.insert(src.id.clone(), src);
        }
        let mut t = Tenant {
            hosts: Vec::new(),
            id: TenantId::parse(&tenant).unwrap_or_else(|e| panic!("{e}")),
            demo: false,
            exchange: format!("hookgate-test.{tenant}"),
            vhost: None,
            subscriptions: Vec::new(),
            sources,
            providers: Default::default(),
            retention_days: None,
            notify: None,
            signing: None,
            file: PathBuf::from("testkit"),
        };
        adjust(&mut t);
        let exchanges = vec![
            t.exchange.clone(),
            service.rabbitmq.unrouted_exchange.clone(),
            service.rabbitmq.ops_exchange.clone(),
        ];
        let mut queues = vec![service.rabbitmq.unrouted_queue.clone()];
        queues.extend(t.subscriptions.iter().map(|s| s.queue.clone()));
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

    /// Adds a neighbour tenant: the first tenant's sources and secrets under
    /// a new id and exchange, adjusted by `adjust` (before starting a
    /// gateway). Returns its id. Its Keeta webhooks are signed like the first
    /// tenant's ([`TestEnv::keeta_webhook`]); its exchange is cleaned up.
    pub fn add_tenant(&mut self, adjust: impl FnOnce(&mut Tenant)) -> String {
        let first = (self.settings.tenants.get(&self.tenant))
            .map(|t| Tenant::clone(t))
            .unwrap_or_else(|| panic!("no first tenant"));
        let id = unique("t");
        let mut t = Tenant {
            id: TenantId::parse(&id).unwrap_or_else(|e| panic!("{e}")),
            exchange: format!("hookgate-test.{id}"),
            subscriptions: Vec::new(),
            ..first
        };
        adjust(&mut t);
        self.exchanges.push(t.exchange.clone());
        self.queues.extend(t.subscriptions.iter().map(|s| s.queue.clone()));
        let mut all: Vec<Tenant> = self.settings.tenants.iter().map(|t| Tenant::clone(t)).collect();
        all.push(t);
        self.settings.tenants = Tenants::from_list(all).unwrap_or_else(|e| panic!("{e}"));
        id
    }

    /// A temporary queue bound to `tenant`'s exchange with `bindings`.
    pub async fn subscribe_to(&self, tenant: &str, bindings: &[&str]) -> Subscription {
        let r = &self.settings.service.rabbitmq;
        let exchange = (self.settings.tenants.get(tenant))
            .map(|t| t.exchange.clone())
            .unwrap_or_else(|| panic!("no tenant {tenant}"));
        let bindings: Vec<String> = bindings.iter().map(|b| (*b).to_owned()).collect();
        Subscription::open(&r.url, &exchange, &r.unrouted_exchange, &bindings)
            .await
            .unwrap_or_else(|e| panic!("subscribe: {e}"))
    }

    /// A store on this test's database.
    pub async fn store(&self) -> Store {
        Store::connect(&self.db_url, &PoolConfig::default(), false)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The tenant's exchange.
    pub fn exchange(&self) -> String {
        (self.settings.tenants.get(&self.tenant))
            .map(|t| t.exchange.clone())
            .unwrap_or_default()
    }

    /// The URL of this test's database.
    pub fn db_url(&self) -> &str {
        &self.db_url
    }

    /// Deletes `queue` with the test's other resources.
    pub fn own_queue(&mut self, queue: &str) {
        self.queues.push(queue.to_owned());
    }

    /// The tenant's id, typed (for store calls).
    pub fn tenant_id(&self) -> TenantId {
        id(&self.tenant)
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

    /// The tenant's source `id`.
    pub fn source(&self, id: &str) -> &Source {
        (self.settings.tenants.get(&self.tenant))
            .and_then(|t| t.source(id))
            .unwrap_or_else(|| panic!("no source {id}"))
    }

    /// A provider-signed request of `event` for source `source_id` (the source's
    /// kind decides the payload and the signature); `seq` varies business ids.
    pub fn sample(&self, source_id: &str, event: &str, seq: u64) -> Sample {
        let source = self.source(source_id);
        let body = (source.provider())
            .sample_body(event, seq, chrono_now_ms())
            .unwrap_or_else(|| panic!("no {event} for {}", source.kind));
        self.sign(source_id, body)
    }

    /// The JSON payload of a sample, to alter before [`TestEnv::sign`].
    pub fn sample_json(&self, source_id: &str, event: &str, seq: u64) -> serde_json::Value {
        let body = (self.source(source_id).provider())
            .sample_body(event, seq, chrono_now_ms())
            .unwrap_or_else(|| panic!("no {event} for {source_id}"));
        serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Posts to `gw` a correctly signed Pagsmile issuing notification whose
    /// `biz_data` cannot be decrypted: accepted (200), then parked by the
    /// relay. What tests of parked notifications start from.
    pub async fn post_parking(&self, gw: &TestGateway, seq: u64) {
        let mut payload = self.sample_json("pagsmile-issuing", "card-status", seq);
        payload["biz_data"] = serde_json::Value::String("q3F0bHp3c2l4ZmFzZGZhc2RmYXNkZmFzZGZhc2Rm".into());
        payload["sign_type"] = serde_json::Value::String("RSA".into());
        let sample = self.sign("pagsmile-issuing", payload.to_string().into_bytes());
        let (status, _, _) = post_sample(&gw.hook_url(&self.tenant, "pagsmile-issuing"), &sample).await;
        assert_eq!(status, 200, "an issuing notification that parks is still accepted");
    }

    /// Signs any body as the provider of `source_id` would (an attacker's
    /// or an unlucky provider's payload, correctly signed).
    pub fn sign(&self, source_id: &str, body: Vec<u8>) -> Sample {
        let source = self.source(source_id);
        let (_, private) = demo_bh_keys();
        let key = PrivateKey::from_pkcs8_pem(&private).unwrap_or_else(|e| panic!("{e}"));
        let delivery_id = unique("msg_");
        let ctx = SampleContext {
            now_secs: chrono_now_ms() / 1000,
            delivery_id: &delivery_id,
            private_key: Some(&key),
        };
        source.sign_sample(body, &ctx).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Adds an admin API token (before starting a gateway); returns its secret.
    pub fn admin_token(
        &mut self,
        name: &str,
        scopes: &[hookgate_config::AdminScope],
        tenants: Option<&[&str]>,
    ) -> String {
        let secret = unique("admin-token-");
        self.settings.service.admin.tokens.push(hookgate_config::AdminToken {
            name: name.to_owned(),
            secret: hookgate_config::Secret::new(secret.clone()),
            scopes: scopes.to_vec(),
            tenants: tenants.map(|t| t.iter().map(|s| (*s).to_owned()).collect()),
        });
        secret
    }

    /// A relay on this test's database, broker and Redis prefix, with the
    /// given settings; its metrics are its own.
    pub async fn dispatcher(&self, settings: hookgate_config::DispatcherSettings) -> (Dispatcher, Arc<Metrics>) {
        let svc = &self.settings.service;
        let publisher = Publisher::new(
            svc.rabbitmq.clone(),
            self.settings.tenants.clone(),
            Duration::from_secs(5),
        );
        let metrics = Arc::new(Metrics::new());
        let dispatcher = Dispatcher::new(
            self.store().await,
            Arc::new(publisher),
            Arc::new(Dedupe::new(svc.redis.clone())),
            self.settings.tenants.clone(),
            metrics.clone(),
            settings,
        );
        (dispatcher, metrics)
    }

    /// A publisher on this test's broker settings and tenants (5 s confirms).
    pub fn publisher(&self) -> Publisher {
        let svc = &self.settings.service;
        Publisher::new(
            svc.rabbitmq.clone(),
            self.settings.tenants.clone(),
            Duration::from_secs(5),
        )
    }

    /// A message `{}` to the tenant exchange under `key` (also its id and
    /// type), no headers, the default vhost: tests change what they test.
    pub fn message(&self, key: &str) -> hookgate_dispatcher::amqp::Outgoing {
        hookgate_dispatcher::amqp::Outgoing {
            exchange: self.exchange(),
            routing_key: key.to_owned(),
            body: b"{}".to_vec(),
            message_id: key.to_owned(),
            message_type: key.to_owned(),
            timestamp: 0,
            headers: BTreeMap::new(),
            vhost: None,
        }
    }

    /// A temporary queue bound to the tenant exchange with `bindings`.
    pub async fn subscribe(&self, bindings: &[&str]) -> Subscription {
        let r = &self.settings.service.rabbitmq;
        let bindings: Vec<String> = bindings.iter().map(|b| (*b).to_owned()).collect();
        Subscription::open(&r.url, &self.exchange(), &r.unrouted_exchange, &bindings)
            .await
            .unwrap_or_else(|e| panic!("subscribe: {e}"))
    }

    /// Writes a configuration directory for a `hookgate` child process that
    /// serves this test's tenant (its `keeta` source only) on `port`, with a
    /// durable quorum queue `queue` bound to the tenant exchange with `#`.
    /// The Keeta secret is passed as `HOOKGATE_TEST_KEETA_SECRET`; the
    /// operations listener gets a free port ([`admin_port`] reads it back).
    pub fn write_config_dir(&self, port: u16, queue: &str) -> PathBuf {
        let s = &self.settings.service;
        let dir = std::env::temp_dir().join(unique("hookgate-config-"));
        let admin_port = free_port();
        std::fs::create_dir_all(dir.join("tenants.d")).unwrap_or_else(|e| panic!("{e}"));
        let service = format!(
            "[http]\nlisten = \"127.0.0.1:{port}\"\npublic_base_url = \"http://127.0.0.1:{port}\"\nworkers = 2\nmax_worker_lag_ms = 0\n[admin]\nlisten = \"127.0.0.1:{admin_port}\"\n\
             [database]\nurl = \"{db}\"\nacquire_timeout_ms = 1000\n\
             [redis]\nurl = \"{redis}\"\nkey_prefix = \"{prefix}\"\ndedupe_ttl_secs = 600\n\
             [rabbitmq]\nurl = \"{amqp}\"\nunrouted_exchange = \"{ae}\"\nunrouted_queue = \"{aq}\"\n\
             [dispatcher]\npoll_interval_ms = 100\nbackoff_base_ms = 100\nbackoff_max_ms = 2000\nmax_attempts = 50\n\
             [telemetry]\nlog_filter = \"warn\"\n",
            db = self.db_url,
            redis = s.redis.url,
            prefix = s.redis.key_prefix,
            amqp = s.rabbitmq.url,
            ae = s.rabbitmq.unrouted_exchange,
            aq = s.rabbitmq.unrouted_queue,
        );
        let tenant = format!(
            "id = \"{t}\"\nexchange = \"{x}\"\n\
             [[subscriptions]]\nqueue = \"{queue}\"\nbindings = [\"#\"]\n\
             [sources.keeta]\nkind = \"keeta\"\napp_id = {app}\napp_secrets = [{{ env = \"HOOKGATE_TEST_KEETA_SECRET\" }}]\n\
             callback_url = \"{cb}\"\n",
            t = self.tenant,
            x = self.exchange(),
            app = KEETA_APP_ID,
            cb = self.callback_url,
        );
        std::fs::write(dir.join("hookgate.toml"), service).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("admin.port"), admin_port.to_string()).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("tenants.d/tenant.toml"), tenant).unwrap_or_else(|e| panic!("{e}"));
        dir
    }

    /// Starts a gateway on 127.0.0.1, port 0.
    pub async fn start(&self, role: Role) -> TestGateway {
        let bind = || TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let listeners = Listeners {
            http: Some(bind()),
            admin: Some(bind()),
        };
        let shutdown = CancellationToken::new();
        let gateway = Gateway::build(&self.settings, role, listeners, shutdown.clone())
            .await
            .unwrap_or_else(|e| panic!("gateway: {e:#}"));
        let port = gateway.port().unwrap_or(0);
        let admin_url = format!("http://127.0.0.1:{}", gateway.admin_port());
        let store = gateway.store.clone();
        let metrics = gateway.metrics.clone();
        let watcher = gateway.watcher();
        let task = tokio::spawn(gateway.run(shutdown.clone()));
        TestGateway {
            base_url: format!("http://127.0.0.1:{port}"),
            admin_url,
            store,
            metrics,
            watcher,
            relays: matches!(role, Role::All | Role::Dispatcher),
            allow_pending: std::sync::atomic::AtomicBool::new(false),
            shutdown,
            task: Some(task),
        }
    }
}

/// A port nothing listens on right now (for child processes).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The operations port a [`TestEnv::write_config_dir`] directory configured.
pub fn admin_port(config_dir: &Path) -> u16 {
    std::fs::read_to_string(config_dir.join("admin.port"))
        .ok()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no admin.port in {}", config_dir.display()))
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Posts a sample to a gateway; returns (status, body text, content-type).
pub async fn post_sample(url: &str, sample: &Sample) -> (u16, String, String) {
    let mut req = http()
        .post(url)
        .header("content-type", "application/json")
        .body(sample.body.clone());
    for (name, value) in &sample.headers {
        req = req.header(name, value);
    }
    let r = req.send().await.unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, r.text().await.unwrap_or_default(), ct)
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
    /// The operations listener (`/metrics`, `/readyz`).
    pub admin_url: String,
    /// Its store.
    pub store: Store,
    /// Its metrics.
    pub metrics: Arc<Metrics>,
    /// Its evaluator of source health and incidents (a test that sets
    /// `watch.enabled = false` runs rounds itself, with its own clock).
    pub watcher: Arc<hookgate_app::watch::Watcher>,
    /// True when it runs relays (its outbox must drain).
    relays: bool,
    /// The test leaves rows pending on purpose.
    allow_pending: std::sync::atomic::AtomicBool,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestGateway {
    /// Says that this test leaves outbox rows pending on purpose (a broker
    /// kept down, retries not yet due), so [`TestGateway::stop`] does not
    /// fail on them.
    pub fn allow_pending(&self) {
        self.allow_pending.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// URL of a tenant source.
    pub fn hook_url(&self, tenant: &str, source: &str) -> String {
        format!("{}/hooks/{tenant}/{source}", self.base_url)
    }

    /// POSTs `body` to a source of `tenant`; returns the status.
    pub async fn post(&self, tenant: &str, source: &str, body: Vec<u8>) -> u16 {
        http()
            .post(self.hook_url(tenant, source))
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST: {e}"))
            .status()
            .as_u16()
    }

    /// Records that a delivery of `source` once verified (as if the source
    /// had been live before): its refusals are then not onboarding ones.
    pub async fn prove_recipe(&self, tenant: &str, source: &str) {
        (self.store.record_proven_recipe(tenant, source, "proven-by-the-test", 0))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// The stored notification of a delivery; panics when it was not stored.
    pub async fn stored(&self, tenant: &str, source: &str, delivery_key: &str) -> hookgate_store::StoredNotification {
        self.store
            .notification_by_key(&id(tenant), &id(source), delivery_key)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("{tenant}/{source}/{delivery_key} was not stored"))
    }

    /// Stops it gracefully and waits.
    ///
    /// A gateway that runs relays first waits (up to 10 s) for its outbox to
    /// drain and fails the test if rows are still pending: a webhook it
    /// acknowledged that was neither published nor parked is a lost event,
    /// whatever the test itself checked (see [`TestGateway::allow_pending`]).
    pub async fn stop(mut self) {
        let pending = if self.relays && !self.allow_pending.load(std::sync::atomic::Ordering::Relaxed) {
            self.pending_after(Duration::from_secs(10)).await
        } else {
            0
        };
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
        }
        assert_eq!(
            pending, 0,
            "the test gateway stopped with {pending} pending outbox rows: acked webhooks never published or parked \
             (call allow_pending() if the test leaves them on purpose)"
        );
    }

    /// Pending outbox rows once the outbox drained or `within` passed.
    async fn pending_after(&self, within: Duration) -> i64 {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let pending = match self.store.outbox_stats().await {
                Ok(stats) => stats.pending,
                // The database is gone (a fault test): nothing to check here.
                Err(_) => return 0,
            };
            if pending == 0 || tokio::time::Instant::now() >= deadline {
                return pending;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
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

impl TestGateway {
    /// `GET` on the admin listener with a bearer token (`None`: without);
    /// returns the status and the JSON body (`Null` when not JSON).
    pub async fn admin_get(&self, path: &str, token: Option<&str>) -> (u16, serde_json::Value) {
        let mut req = http().get(format!("{}{path}", self.admin_url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        answer(req).await
    }

    /// The text of `/metrics` (the Prometheus 0.0.4 format).
    pub async fn metrics_text(&self) -> String {
        let url = format!("{}/metrics", self.admin_url);
        let r = http()
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        r.text().await.unwrap_or_else(|e| panic!("GET {url}: {e}"))
    }

    /// `POST` of a JSON body on the admin listener with a bearer token.
    pub async fn admin_post(
        &self,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let mut req = http().post(format!("{}{path}", self.admin_url)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        answer(req).await
    }

    /// Polls a replay job until it is no longer pending or running.
    pub async fn replay_finished(&self, job: i64, token: &str, within: Duration) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let (status, job_state) = self.admin_get(&format!("/v1/replays/{job}"), Some(token)).await;
            assert_eq!(status, 200, "{job_state}");
            let s = job_state["status"].as_str().unwrap_or_default();
            if s != "pending" && s != "running" {
                return job_state;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "replay job {job} still {s}: {job_state}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn answer(req: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let r = req.send().await.unwrap_or_else(|e| panic!("admin call: {e}"));
    let status = r.status().as_u16();
    let body = r.bytes().await.unwrap_or_default();
    (status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
}

/// A client for tests.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Parses a tenant or source id of a test (panics on an invalid one).
pub fn id<T: TryFrom<String, Error = hookgate_core::IdError>>(value: &str) -> T {
    T::try_from(value.to_owned()).unwrap_or_else(|e| panic!("{e}"))
}
