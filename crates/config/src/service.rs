//! Service settings (`hookgate.toml` + environment).

use crate::{ConfigError, Resolve};
use hookgate_core::{Secret, SecretRef};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

const DEFAULTS: &str = include_str!("defaults.toml");

/// All service settings, validated.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// Webhook listener.
    pub http: HttpSettings,
    /// Operations listener (metrics, readiness).
    pub admin: AdminSettings,
    /// PostgreSQL.
    pub database: DatabaseSettings,
    /// Redis (dedupe).
    pub redis: RedisSettings,
    /// RabbitMQ (publishing).
    pub rabbitmq: RabbitSettings,
    /// Outbox relay.
    pub dispatcher: DispatcherSettings,
    /// Logs, traces.
    pub telemetry: TelemetrySettings,
    /// Tenant files directory (relative to the config directory unless absolute).
    pub tenants_dir: PathBuf,
    /// Retention of stored requests.
    pub retention: RetentionSettings,
    /// Source health and incidents.
    pub watch: WatchSettings,
    /// The local journal ingress answers from while PostgreSQL is away.
    pub spool: SpoolSettings,
    /// Reload the tenant files when they change (polled every this many
    /// ms); `None`: only on `SIGHUP` or `POST /v1/config/reload`.
    pub tenants_watch: Option<Duration>,
}

/// `[admin]`, with its tokens resolved.
#[derive(Debug, Clone)]
pub struct AdminSettings {
    /// Bind address of the operations listener (`/metrics`, `/readyz`,
    /// `/healthz` and the admin API under `/v1`); never the public webhook port.
    pub listen: String,
    /// Bearer tokens of the admin API whose secret could be resolved. A
    /// token whose secret is missing is left out with a warning
    /// ([`AdminSettings::locked`]), so `serve` still starts.
    pub tokens: Vec<AdminToken>,
    /// Tokens left out, with why (their secret could not be resolved).
    pub locked: Vec<(String, String)>,
    /// Notifications per second a replay job publishes unless it says.
    pub replay_rate_per_sec: i32,
}

/// What an admin token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminScope {
    /// Metadata: notifications, events, parked rows, rejections, tenants, audit.
    Read,
    /// Raw bodies and headers of notifications and rejections.
    ReadPayload,
    /// Replay, requeue, readmit, erase.
    Operate,
}

impl AdminScope {
    /// The scope as configured.
    pub fn as_str(self) -> &'static str {
        match self {
            AdminScope::Read => "read",
            AdminScope::ReadPayload => "read_payload",
            AdminScope::Operate => "operate",
        }
    }
}

/// One bearer token of the admin API (`[[admin.tokens]]`).
#[derive(Debug, Clone)]
pub struct AdminToken {
    /// Name, recorded in the audit log (never the secret).
    pub name: String,
    /// The bearer value.
    pub secret: Secret,
    /// What it may do.
    pub scopes: Vec<AdminScope>,
    /// The tenants it is limited to (`None`: all).
    pub tenants: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdminSection {
    listen: String,
    replay_rate_per_sec: i32,
    #[serde(default)]
    tokens: Vec<AdminTokenEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdminTokenEntry {
    name: String,
    secret: SecretRef,
    scopes: Vec<AdminScope>,
    #[serde(default)]
    tenants: Option<Vec<String>>,
}

impl AdminSection {
    /// Resolves the token secrets (environment variables, files relative to
    /// `base_dir`); literal secrets are refused.
    fn resolve(self, file: &Path, base_dir: &Path) -> Result<AdminSettings, ConfigError> {
        let mut tokens = Vec::new();
        let mut locked = Vec::new();
        let mut names = std::collections::HashSet::new();
        for (i, t) in self.tokens.into_iter().enumerate() {
            let key = format!("admin.tokens[{i}]");
            if t.name.trim().is_empty() || !names.insert(t.name.clone()) {
                return Err(ConfigError::invalid(
                    file,
                    format!("{key}.name"),
                    "must be non-empty and unique",
                ));
            }
            if t.scopes.is_empty() {
                return Err(ConfigError::invalid(
                    file,
                    format!("{key}.scopes"),
                    "give at least one of read, read_payload, operate",
                ));
            }
            if matches!(t.secret, SecretRef::Demo(_)) {
                return Err(ConfigError::invalid(
                    file,
                    format!("{key}.secret"),
                    "use { env = \"VAR\" } or { file = \"path\" }",
                ));
            }
            match t.secret.resolve(false, base_dir) {
                Ok(secret) => tokens.push(AdminToken {
                    name: t.name,
                    secret,
                    scopes: t.scopes,
                    tenants: t.tenants,
                }),
                Err(why) => locked.push((t.name, why)),
            }
        }
        if self.replay_rate_per_sec <= 0 {
            return Err(ConfigError::invalid(
                file,
                "admin.replay_rate_per_sec",
                "must be greater than 0",
            ));
        }
        Ok(AdminSettings {
            listen: self.listen,
            tokens,
            locked,
            replay_rate_per_sec: self.replay_rate_per_sec,
        })
    }
}

impl HttpSettings {
    /// [`HttpSettings::trusted_proxies`], parsed (checked at load: an
    /// unparsable entry never gets here, and is skipped if it does).
    pub fn trusted_proxy_networks(&self) -> Vec<hookgate_core::Cidr> {
        self.trusted_proxies
            .iter()
            .filter_map(|c| hookgate_core::Cidr::parse(c).ok())
            .collect()
    }
}

/// `[http]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// Bind address.
    pub listen: String,
    /// Public base URL, without a trailing slash.
    pub public_base_url: String,
    /// Default body limit.
    pub body_limit_bytes: usize,
    /// Server worker threads (0 = cores).
    pub workers: usize,
    /// Longest graceful shutdown, seconds.
    pub shutdown_deadline_secs: u64,
    /// How often keys providers returned at registration are reloaded, ms.
    pub registered_keys_refresh_ms: u64,
    /// Longest time for a request's head (line and headers) to arrive, ms.
    pub header_read_timeout_ms: u64,
    /// Longest time for a request's whole body to arrive, ms (→ 408).
    pub body_read_timeout_ms: u64,
    /// Body bytes all requests together may hold in memory (beyond → 503).
    pub max_body_bytes_in_memory: usize,
    /// Of those, the bytes only bodies of at most 64 KiB may use.
    pub small_body_reserve_bytes: usize,
    /// Body bytes the requests of one peer address may hold (0 = no cap).
    pub max_body_bytes_per_peer: usize,
    /// Body bytes the requests to one source may hold (0 = no cap).
    pub max_body_bytes_per_source: usize,
    /// Webhook requests one peer address may have in flight (0 = no cap).
    pub max_in_flight_per_peer: usize,
    /// Rejection rows stored per second for one tenant, source and reason.
    pub rejection_rows_per_sec: u32,
    /// Rejection rows stored at once beyond that rate.
    pub rejection_rows_burst: u32,
    /// Bytes of a refused body kept when it is not kept whole.
    pub rejection_body_prefix_bytes: usize,
    /// Bytes of whole refused bodies one source may store per hour.
    pub rejection_body_bytes_per_hour: usize,
    /// Bytes of refused bodies one onboarding source may keep whole per day.
    pub rejection_onboarding_body_bytes: usize,
    /// Webhook requests handled at once (beyond → 503 + Retry-After at once).
    pub max_in_flight: usize,
    /// Webhooks waiting for or inside a group commit at once: beyond, 503
    /// at once (the database is behind; queueing would only add wait).
    pub max_in_flight_commits: usize,
    /// Worker event-loop lag beyond which webhooks are shed, ms (0 = never).
    pub max_worker_lag_ms: u64,
    /// PEM certificate chain to serve TLS with (empty: plain HTTP).
    pub tls_cert_file: String,
    /// Peers whose `X-Forwarded-Proto` / `Forwarded: proto=` is believed
    /// (CIDRs; checked at load).
    pub trusted_proxies: Vec<String>,
    /// PEM private key of `tls_cert_file`.
    pub tls_key_file: String,
    /// Longest time a renewed certificate or key file goes unnoticed, ms.
    pub tls_reload_check_ms: u64,
}

/// `[retention]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Apply retention in the background (in processes that relay).
    pub enabled: bool,
    /// Days notifications, events and rejections are kept unless a tenant
    /// sets `retention_days`.
    pub days: u32,
    /// How often retention runs, seconds.
    pub interval_secs: u64,
    /// Rows removed per statement.
    pub batch: i64,
    /// Hours a partition of notifications takes ids before the next one
    /// opens: the smallest piece of time retention drops whole.
    pub partition_hours: u32,
}

/// `[spool]`: the local journal of verified requests ingress keeps while
/// PostgreSQL is unreachable (see `defaults.toml`, docs/guarantees.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpoolSettings {
    /// Directory of the journal; empty: no spool (503 while PostgreSQL is away).
    pub dir: String,
    /// Bytes the journal may hold; beyond, 503 as without a spool.
    pub max_bytes: u64,
}

impl SpoolSettings {
    /// The journal's directory when the spool is on.
    pub fn dir(&self) -> Option<PathBuf> {
        (!self.dir.trim().is_empty()).then(|| PathBuf::from(self.dir.trim()))
    }
}

/// `[watch]`: source health and incidents (see `defaults.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchSettings {
    /// Evaluate conditions in the background.
    pub enabled: bool,
    /// Seconds between evaluations.
    pub interval_secs: u64,
    /// Weeks of history the baseline takes the median over.
    pub baseline_weeks: u32,
    /// Days of history a source needs before its baseline judges.
    pub baseline_min_history_days: u32,
    /// Accepted webhooks the baseline must have expected since the last one.
    pub baseline_expected: f64,
    /// Refusals of one cause that make a spike.
    pub rejection_spike: i64,
    /// How recent the latest refusal of a spike must be, seconds.
    pub rejection_window_secs: u64,
    /// Parked notifications of a tenant that open an incident.
    pub parked_threshold: i64,
    /// Age of a tenant's oldest pending notification that opens an incident, seconds.
    pub outbox_age_secs: u64,
    /// Seconds notifications may be due while no relay publishes anything
    /// before `relay_not_publishing` opens.
    pub relay_stall_secs: u64,
    /// Days before the TLS certificate (`http.tls_cert_file`) expires that
    /// `tls_expiry` opens.
    pub tls_expiry_days: u32,
    /// An HTTP endpoint every operator event is also POSTed to, signed with
    /// Standard Webhooks ('' = none).
    #[serde(default)]
    pub notify_url: String,
    /// Its `whsec_<base64>` secret, by reference (`{ env = "..." }` or `{ file = "..." }`).
    #[serde(default)]
    pub notify_secret: Option<SecretRef>,
    /// The resolved key of `notify_secret` (set by the loader).
    #[serde(skip)]
    pub notify_key: Option<hookgate_core::SecretBytes>,
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Connection URL.
    pub url: String,
    /// Create the database if missing.
    pub create_if_missing: bool,
    /// Migrate on `serve` start.
    pub migrate_on_start: bool,
    /// Pool size.
    pub max_connections: u32,
    /// Pool acquire timeout in milliseconds.
    pub acquire_timeout_ms: u64,
    /// Group-commit writer tasks.
    pub writers: usize,
    /// Most rows per group commit.
    pub max_batch: usize,
}

impl DatabaseSettings {
    /// Pool acquire timeout.
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.acquire_timeout_ms)
    }
}

/// `[redis]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// Connection URL; with `sentinel_master`, the Sentinels' URLs,
    /// separated by commas.
    pub url: String,
    /// The master's name at the Sentinels (`url` then lists them); empty:
    /// `url` is the Redis server itself.
    pub sentinel_master: String,
    /// Key prefix.
    pub key_prefix: String,
    /// Dedupe window in seconds.
    pub dedupe_ttl_secs: u64,
    /// Per-call timeout in milliseconds.
    pub op_timeout_ms: u64,
}

/// `[rabbitmq]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RabbitSettings {
    /// AMQP URL; several, separated by commas, for the nodes of a cluster
    /// (tried in turn: [`RabbitSettings::nodes`]).
    pub url: String,
    /// Alternate exchange for unroutable events.
    pub unrouted_exchange: String,
    /// Queue bound to the alternate exchange.
    pub unrouted_queue: String,
    /// Its type: `classic` (default, as before) or `quorum` (replicated: on
    /// a cluster, unroutable events survive the loss of a node). An existing
    /// queue keeps its type until it is deleted.
    pub unrouted_queue_type: crate::QueueType,
    /// Prefix of default tenant exchange names.
    pub exchange_prefix: String,
    /// Topic exchange of operator events (incident transitions).
    pub ops_exchange: String,
}

impl RabbitSettings {
    /// The node URLs of `url`, in the order they are tried.
    pub fn nodes(&self) -> Vec<&str> {
        let nodes: Vec<&str> = self.url.split(',').map(str::trim).filter(|u| !u.is_empty()).collect();
        if nodes.is_empty() {
            vec![self.url.as_str()]
        } else {
            nodes
        }
    }

    /// The first node's URL (tools that need one connection).
    pub fn first_node(&self) -> &str {
        self.nodes().first().copied().unwrap_or(self.url.as_str())
    }
}

/// `[dispatcher]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatcherSettings {
    /// Run the relay inside `serve`.
    pub enabled: bool,
    /// Rows per claim.
    pub batch_size: u32,
    /// Relay loops per process.
    pub concurrency: usize,
    /// Fallback poll interval (ms).
    pub poll_interval_ms: u64,
    /// How long a relay loop lets rows gather before a claim that does not
    /// follow a full batch (ms; 0 = claim at once).
    pub linger_ms: u64,
    /// Lease (s).
    pub lease_secs: u64,
    /// Attempts before parking.
    pub max_attempts: u32,
    /// Backoff base (ms).
    pub backoff_base_ms: u64,
    /// Backoff cap (ms).
    pub backoff_max_ms: u64,
    /// Publisher confirm timeout (ms).
    pub confirm_timeout_ms: u64,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `[telemetry]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter.
    pub log_filter: String,
    /// OTLP/HTTP traces endpoint; empty disables export.
    pub otlp_endpoint: String,
    /// `service.name` resource attribute.
    pub service_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantsSection {
    dir: PathBuf,
    watch: bool,
    watch_interval_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceFile {
    http: HttpSettings,
    admin: AdminSection,
    database: DatabaseSettings,
    redis: RedisSettings,
    rabbitmq: RabbitSettings,
    dispatcher: DispatcherSettings,
    telemetry: TelemetrySettings,
    retention: RetentionSettings,
    watch: WatchSettings,
    spool: SpoolSettings,
    tenants: TenantsSection,
}

/// Every `HOOKGATE__SECTION__KEY` variable must name a setting (all have a
/// default in `defaults.toml`): a typo is reported as the variable it is,
/// not as an error of the file.
fn check_environment(vars: impl Iterator<Item = (String, String)>) -> Result<(), ConfigError> {
    let defaults: toml::Table = toml::from_str(DEFAULTS).map_err(|e| ConfigError::Read {
        file: "defaults.toml".to_owned(),
        cause: Box::new(e),
    })?;
    for (name, _) in vars {
        let Some(path) = name.strip_prefix("HOOKGATE__") else {
            continue;
        };
        let lower = path.to_ascii_lowercase();
        let known = match lower.split_once("__") {
            Some((section, key)) => defaults
                .get(section)
                .and_then(|s| s.as_table())
                .is_some_and(|s| s.contains_key(key)),
            None => false,
        };
        if !known {
            return Err(ConfigError::Invalid {
                file: "environment".to_owned(),
                key: name.clone(),
                message: format!(
                    "no such setting {} (variables are HOOKGATE__SECTION__KEY for the keys of defaults.toml)",
                    lower.replace("__", ".")
                ),
            });
        }
    }
    Ok(())
}

impl ServiceSettings {
    /// Built-in defaults only (no file, no environment).
    pub fn defaults() -> Result<ServiceSettings, ConfigError> {
        let cfg = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()
            .map_err(|e| file_error("built-in defaults", e))?;
        Self::from_config(cfg, Path::new("built-in defaults"), Path::new("."))
    }

    /// Defaults, then `<dir>/hookgate.toml` (optional), then `HOOKGATE__*` variables.
    pub fn load(config_dir: &Path) -> Result<ServiceSettings, ConfigError> {
        check_environment(std::env::vars())?;
        let file = config_dir.join("hookgate.toml");
        let cfg = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .add_source(
                config::File::from(file.clone())
                    .format(config::FileFormat::Toml)
                    .required(false),
            )
            .add_source(
                config::Environment::with_prefix("HOOKGATE")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()
            .map_err(|e| file_error(&file.display().to_string(), e))?;
        Self::from_config(cfg, &file, config_dir)
    }

    fn from_config(cfg: config::Config, file: &Path, config_dir: &Path) -> Result<ServiceSettings, ConfigError> {
        let raw: ServiceFile = cfg
            .try_deserialize()
            .map_err(|e| file_error(&file.display().to_string(), e))?;
        let mut http = raw.http;
        http.public_base_url = http.public_base_url.trim_end_matches('/').to_owned();
        if !(http.public_base_url.starts_with("http://") || http.public_base_url.starts_with("https://")) {
            return Err(ConfigError::invalid(
                file,
                "http.public_base_url",
                "must start with http:// or https://",
            ));
        }
        if http.body_limit_bytes == 0 {
            return Err(ConfigError::invalid(
                file,
                "http.body_limit_bytes",
                "must be greater than 0",
            ));
        }
        for (i, cidr) in http.trusted_proxies.iter().enumerate() {
            hookgate_core::Cidr::parse(cidr)
                .map_err(|e| ConfigError::invalid(file, format!("http.trusted_proxies[{i}]"), e))?;
        }
        if http.tls_cert_file.is_empty() != http.tls_key_file.is_empty() {
            return Err(ConfigError::invalid(
                file,
                "http.tls_cert_file",
                "tls_cert_file and tls_key_file go together (both empty: plain HTTP)",
            ));
        }
        if raw.retention.days == 0
            || raw.retention.batch <= 0
            || raw.retention.interval_secs == 0
            || raw.retention.partition_hours == 0
        {
            return Err(ConfigError::invalid(
                file,
                "retention",
                "days, interval_secs, batch and partition_hours must be greater than 0",
            ));
        }
        let w = &raw.watch;
        if w.interval_secs == 0
            || w.baseline_weeks == 0
            || w.baseline_weeks > 5
            || w.baseline_expected.is_nan()
            || w.baseline_expected <= 0.0
            || w.rejection_spike <= 0
            || w.rejection_window_secs == 0
            || w.parked_threshold <= 0
            || w.outbox_age_secs == 0
            || w.relay_stall_secs == 0
            || w.tls_expiry_days == 0
        {
            return Err(ConfigError::invalid(
                file,
                "watch",
                "interval_secs, baseline_expected, rejection_spike, rejection_window_secs, parked_threshold, outbox_age_secs, relay_stall_secs and tls_expiry_days must be greater than 0; baseline_weeks 1 to 5 (the rollup keeps five weeks)",
            ));
        }
        let mut watch = raw.watch.clone();
        if !watch.notify_url.is_empty() {
            if !(watch.notify_url.starts_with("https://") || watch.notify_url.starts_with("http://")) {
                return Err(ConfigError::invalid(
                    file,
                    "watch.notify_url",
                    "expected an http:// or https:// URL",
                ));
            }
            let secret = match &watch.notify_secret {
                None => {
                    return Err(ConfigError::invalid(
                        file,
                        "watch.notify_secret",
                        "notify_url needs a secret: notify_secret = { env = \"VAR\" } holding whsec_<base64>",
                    ))
                }
                Some(SecretRef::Demo(_)) => {
                    return Err(ConfigError::invalid(
                        file,
                        "watch.notify_secret",
                        "use { env = \"VAR\" } or { file = \"path\" }",
                    ))
                }
                Some(r) => r
                    .resolve(false, config_dir)
                    .map_err(|m| ConfigError::invalid(file, "watch.notify_secret", m))?,
            };
            let key = whsec_key(&secret)
                .ok_or_else(|| ConfigError::invalid(file, "watch.notify_secret", "expected whsec_<base64>"))?;
            watch.notify_key = Some(key);
        }
        if raw.rabbitmq.ops_exchange.is_empty() || raw.rabbitmq.ops_exchange.starts_with("amq.") {
            return Err(ConfigError::invalid(
                file,
                "rabbitmq.ops_exchange",
                "must be non-empty and not start with amq.",
            ));
        }
        let d = &raw.dispatcher;
        if d.batch_size == 0 || d.max_attempts == 0 || d.lease_secs == 0 {
            return Err(ConfigError::invalid(
                file,
                "dispatcher",
                "batch_size, max_attempts and lease_secs must be greater than 0",
            ));
        }
        Ok(ServiceSettings {
            http,
            admin: raw.admin.resolve(file, config_dir)?,
            database: raw.database,
            redis: raw.redis,
            rabbitmq: raw.rabbitmq,
            dispatcher: raw.dispatcher,
            telemetry: raw.telemetry,
            retention: raw.retention,
            watch,
            spool: raw.spool,
            tenants_watch: (raw.tenants.watch && raw.tenants.watch_interval_ms > 0)
                .then(|| Duration::from_millis(raw.tenants.watch_interval_ms)),
            tenants_dir: raw.tenants.dir,
        })
    }
}

pub(crate) fn file_error(file: &str, e: config::ConfigError) -> ConfigError {
    ConfigError::Read {
        file: file.to_owned(),
        cause: Box::new(e),
    }
}

#[cfg(test)]
mod env_tests {
    #[test]
    fn environment_typos_name_the_variable() {
        let vars = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect::<Vec<_>>()
        };
        assert!(super::check_environment(
            vars(&[("HOOKGATE__HTTP__LISTEN", "x"), ("HOOKGATE_OTHER", "y")]).into_iter()
        )
        .is_ok());
        let err = super::check_environment(vars(&[("HOOKGATE__HTTP__LISTN", "x")]).into_iter())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("environment: HOOKGATE__HTTP__LISTN: no such setting http.listn"),
            "{err}"
        );
        assert!(super::check_environment(vars(&[("HOOKGATE__NOPE", "x")]).into_iter()).is_err());
    }
}

#[cfg(test)]
mod tests {
    trait ChainText {
        fn with_causes(&self) -> String;
    }

    impl<E: std::error::Error + 'static> ChainText for E {
        /// The message with its causes, as `config check` shows them.
        fn with_causes(&self) -> String {
            hookgate_core::Chain(self).to_string()
        }
    }

    use super::*;

    #[test]
    fn defaults_match_the_documented_contract() {
        let s = ServiceSettings::defaults().unwrap();
        assert_eq!(s.http.listen, "0.0.0.0:8080");
        assert_eq!(s.http.public_base_url, "http://127.0.0.1:8080");
        assert_eq!(s.http.body_limit_bytes, 1024 * 1024);
        assert_eq!(s.database.url, "postgres://postgres@127.0.0.1:5432/hookgate");
        assert_eq!(s.redis.url, "redis://127.0.0.1:6379");
        assert_eq!(s.rabbitmq.url, "amqp://guest:guest@127.0.0.1:5672/%2f");
    }

    #[test]
    fn admin_tokens_resolve_or_are_left_out_and_literals_are_refused() {
        let dir = std::env::temp_dir().join(format!("hookgate-cfg-tokens-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ops.token"), "from-a-file\n").unwrap();
        std::fs::write(
            dir.join("hookgate.toml"),
            "[[admin.tokens]]\nname = \"ops\"\nsecret = { file = \"ops.token\" }\nscopes = [\"read\", \"operate\"]\n\
             tenants = [\"acme\"]\n\
             [[admin.tokens]]\nname = \"local\"\nsecret = { env = \"HOOKGATE_TEST_SURELY_UNSET_TOKEN\" }\nscopes = [\"read\"]\n",
        )
        .unwrap();
        let s = ServiceSettings::load(&dir).unwrap();
        assert_eq!(s.admin.tokens.len(), 1);
        let ops = &s.admin.tokens[0];
        assert_eq!((ops.name.as_str(), ops.secret.expose()), ("ops", "from-a-file"));
        assert_eq!(ops.scopes, [AdminScope::Read, AdminScope::Operate]);
        assert_eq!(ops.tenants.as_deref(), Some(&["acme".to_owned()][..]));
        assert_eq!(s.admin.locked.len(), 1);
        assert!(s.admin.locked[0].1.contains("HOOKGATE_TEST_SURELY_UNSET_TOKEN"));
        std::fs::write(
            dir.join("hookgate.toml"),
            "[[admin.tokens]]\nname = \"x\"\nsecret = { demo = \"literal\" }\nscopes = [\"read\"]\n",
        )
        .unwrap();
        let err = ServiceSettings::load(&dir).unwrap_err().with_causes();
        assert!(err.contains("admin.tokens[0].secret"), "{err}");
        std::fs::write(
            dir.join("hookgate.toml"),
            "[[admin.tokens]]\nname = \"x\"\nsecret = { env = \"HOME\" }\nscopes = [\"write\"]\n",
        )
        .unwrap();
        assert!(ServiceSettings::load(&dir).is_err(), "unknown scope");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn unknown_keys_name_the_file_and_key() {
        let dir = std::env::temp_dir().join(format!("hookgate-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("hookgate.toml"),
            "[http]\nlisten = \"127.0.0.1:1\"\nlisen = 3\n",
        )
        .unwrap();
        let err = ServiceSettings::load(&dir).unwrap_err().with_causes();
        std::fs::remove_dir_all(&dir).ok();
        assert!(err.contains("hookgate.toml"), "{err}");
        assert!(err.contains("lisen"), "{err}");
    }
}

/// The key of a Standard Webhooks secret (`whsec_<base64>`, the prefix
/// optional); `None` when it is not base64 or empty.
pub(crate) fn whsec_key(secret: &hookgate_core::Secret) -> Option<hookgate_core::SecretBytes> {
    let text = secret.expose().trim();
    hookgate_signature::decode_base64(text.strip_prefix("whsec_").unwrap_or(text))
        .filter(|k| !k.is_empty())
        .map(hookgate_core::SecretBytes::new)
}
