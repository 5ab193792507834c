//! Tenants and their sources (`tenants.d/*.toml`, one file per tenant).

use crate::service::file_error;
use crate::{ConfigError, Resolve, Secret, SecretRef, ServiceSettings};
use hookgate_core::{Cidr, SourceId, SourceKind, TenantId};
use hookgate_providers::{Provider, Resolver, SettingsContext, SourceSettings};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// What a source does when a signature does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Verification {
    /// Reject with 401 (default).
    #[default]
    Enforce,
    /// Accept, store flagged as unverified, count in a metric: for onboarding
    /// a provider whose exact recipe is not yet confirmed.
    Observe,
}

/// What the relay does with an event whose state comes before one its
/// subject already published (docs/events.md, "Stale states").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StalePolicy {
    /// Publish it marked stale (`stale` in the event, `x-hookgate-stale: true`
    /// header) with its usual routing key (default).
    #[default]
    Mark,
    /// Publish it marked stale with `<routing key>.stale`.
    Route,
    /// Park it (published only when an operator replays it).
    Park,
    /// Do not judge this source's events (a provider whose reordering is
    /// known to be harmless); states are still recorded.
    Off,
}

impl StalePolicy {
    /// The policy's configuration word (also the metric label).
    pub fn as_str(self) -> &'static str {
        match self {
            StalePolicy::Mark => "mark",
            StalePolicy::Route => "route",
            StalePolicy::Park => "park",
            StalePolicy::Off => "off",
        }
    }
}

/// HTTP basic credentials a source requires.
#[derive(Debug, Clone)]
pub struct BasicAuth {
    /// User name.
    pub username: String,
    /// Password.
    pub password: Secret,
}

/// A secret token a source requires in a header.
#[derive(Debug, Clone)]
pub struct HeaderToken {
    /// Header name (lowercase).
    pub header: String,
    /// Expected value.
    pub value: Secret,
}

/// Network-level controls, checked before the provider signature (any kind).
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// Allowed client networks; empty = any.
    pub allow_ips: Vec<Cidr>,
    /// Header carrying the client address when behind a trusted proxy
    /// (`X-Forwarded-For` style: each proxy appends the address it saw);
    /// unset = the TCP peer address.
    pub trusted_proxy_header: Option<String>,
    /// Addresses of the proxies in front of hookgate. The header is honoured
    /// only when the TCP peer is one of them, and the client is the rightmost
    /// header entry that is not one of them. Empty: the peer is the one
    /// trusted proxy and the rightmost entry (the one it appended) is the client.
    pub trusted_proxies: Vec<Cidr>,
    /// Required basic credentials.
    pub basic_auth: Option<BasicAuth>,
    /// Required header token.
    pub token: Option<HeaderToken>,
    /// Query parameters whose values are never stored or shown (lowercase),
    /// besides those whose names look like credentials (see
    /// [`is_credential_param`]).
    pub redact_query: Vec<String>,
}

/// Whether a query parameter's name looks like it carries a credential
/// (`token`, `api_key`, `sig`, `password`, ...): its value is stored as
/// `<redacted>` in rejection rows.
pub fn is_credential_param(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "token",
        "key",
        "secret",
        "password",
        "passwd",
        "pwd",
        "sig",
        "auth",
        "credential",
        "session",
        "jwt",
        "bearer",
    ];
    let name = name.to_ascii_lowercase();
    WORDS.iter().any(|w| name.contains(w))
}

impl Access {
    /// True when any control is configured.
    pub fn is_configured(&self) -> bool {
        !self.allow_ips.is_empty() || self.basic_auth.is_some() || self.token.is_some()
    }
}

/// One source of a tenant.
#[derive(Debug, Clone)]
pub struct Source {
    /// URL segment.
    pub id: SourceId,
    /// Kind.
    pub kind: SourceKind,
    /// Body limit in bytes.
    pub body_limit_bytes: usize,
    /// Enforce or observe signature failures.
    pub verification: Verification,
    /// Network controls.
    pub access: Access,
    /// The kind's own settings (credentials and options), which verify and
    /// answer its requests.
    pub settings: Arc<dyn SourceSettings>,
    /// Fixed paths that also reach this source on its tenant's host names
    /// (`/webhook/authorization`: a provider that appends a fixed path to a
    /// configured host), besides `/hooks/<tenant>/<source>`.
    pub paths: Vec<String>,
    /// How the source is watched for silence (`quiet_after`, `active_hours`).
    pub watch: crate::SourceWatch,
    /// What happens to an event that would move its subject backwards
    /// (`stale_policy`).
    pub stale_policy: StalePolicy,
    /// Every credential of the source's table (secrets, keys, passwords,
    /// tokens), named by where it comes from: what a reload compares
    /// (`key_added` / `key_removed` notices).
    pub credentials: Vec<Credential>,
}

/// One credential of a source: its place in the tenant file and where its
/// value comes from (`sources.keeta.app_secrets[1] (env ACME_KEETA_NEW)`),
/// never the value; the value is kept to tell a new one from a moved one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Where it is and where its value comes from.
    pub name: String,
    value: Secret,
}

impl Credential {
    /// A credential named `name` holding `value` (tests).
    pub fn new(name: impl Into<String>, value: Secret) -> Credential {
        Credential {
            name: name.into(),
            value,
        }
    }

    /// True when both hold the same value (wherever it comes from).
    pub fn same_value(&self, other: &Credential) -> bool {
        self.value == other.value
    }
}

/// The credentials (`{ env = ... }`, `{ file = ... }`, `{ demo = ... }`
/// references) anywhere under `value`, resolved.
fn credentials(ctx: &Ctx<'_>, at: &str, value: &Value, out: &mut Vec<Credential>) {
    match value {
        Value::Object(m) => {
            if let (1, Some((kind, Value::String(from)))) = (m.len(), m.iter().next()) {
                if matches!(kind.as_str(), "env" | "file" | "demo") {
                    if let Ok(reference) = serde_json::from_value::<SecretRef>(value.clone()) {
                        if let Ok(secret) = ctx.secret(&reference) {
                            let name = match kind.as_str() {
                                "demo" => format!("{at} (demo)"),
                                _ => format!("{at} ({kind} {from})"),
                            };
                            out.push(Credential { name, value: secret });
                        }
                    }
                    return;
                }
            }
            for (k, v) in m {
                credentials(ctx, &format!("{at}.{k}"), v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                credentials(ctx, &format!("{at}[{i}]"), v, out);
            }
        }
        _ => {}
    }
}

impl Source {
    /// The provider of the source's kind.
    pub fn provider(&self) -> &'static dyn Provider {
        self.settings.provider()
    }

    /// A sample body signed as this source's provider would send it, with
    /// the access credentials the source requires (basic auth, header
    /// token) first: what `simulate`, `bench` and the tests send.
    pub fn sign_sample(
        &self,
        body: Vec<u8>,
        ctx: &hookgate_providers::SampleContext<'_>,
    ) -> Result<hookgate_providers::Sample, hookgate_providers::SampleError> {
        let signed = self.settings.sign_sample(body, ctx)?;
        let mut headers = Vec::with_capacity(signed.headers.len() + 2);
        if let Some(basic) = &self.access.basic_auth {
            let creds =
                hookgate_signature::encode_base64(format!("{}:{}", basic.username, basic.password.expose()).as_bytes());
            headers.push(("authorization".to_owned(), format!("Basic {creds}")));
        }
        if let Some(token) = &self.access.token {
            headers.push((token.header.clone(), token.value.expose().to_owned()));
        }
        headers.extend(signed.headers);
        Ok(hookgate_providers::Sample {
            body: signed.body,
            headers,
        })
    }
}

/// RabbitMQ queue type of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum QueueType {
    /// Replicated, durable (default).
    #[default]
    Quorum,
    /// Classic queue.
    Classic,
}

impl QueueType {
    /// The `x-queue-type` argument value.
    pub fn as_str(self) -> &'static str {
        match self {
            QueueType::Quorum => "quorum",
            QueueType::Classic => "classic",
        }
    }
}

/// A queue hookgate declares and binds to a tenant's exchange, so events are
/// kept from the first publish on, before any consumer starts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    /// Queue name.
    pub queue: String,
    /// Binding keys, e.g. `keeta.order.#`.
    pub bindings: Vec<String>,
    /// Queue type.
    #[serde(default, rename = "type")]
    pub queue_type: QueueType,
    /// Where rejected or expired messages go (`x-dead-letter-exchange`).
    #[serde(default = "default_dlx")]
    pub dead_letter_exchange: String,
}

/// Default dead-letter exchange of subscriptions.
pub const DEFAULT_DLX: &str = "hookgate.dlx";

fn default_dlx() -> String {
    DEFAULT_DLX.to_owned()
}

/// Request paths of BH's management API. The docs show both `/openapi/v2/...`
/// (guides) and `/v2/...` (reference pages): every path is configurable.
/// `{webhookId}` is replaced by the webhook's id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BhPaths {
    /// `GET`, issues the `X-BH-TOKEN`.
    pub token: String,
    /// `POST`, creates a webhook listener.
    pub create: String,
    /// `PUT`, updates one (`url`, `status`).
    pub update: String,
    /// `GET`, lists them (`?status=`).
    pub list: String,
    /// `DELETE`, deletes one.
    pub delete: String,
}

impl Default for BhPaths {
    fn default() -> Self {
        BhPaths {
            token: "/v2/token/generate".into(),
            create: "/openapi/v2/business/webhook".into(),
            update: "/v2/webhook/{webhookId}".into(),
            list: "/v2/webhooks".into(),
            delete: "/v2/webhook/{webhookId}".into(),
        }
    }
}

/// A tenant's BH (VelaFi / TruBit) API account (`[providers.bh]`).
#[derive(Debug, Clone)]
pub struct BhApi {
    /// Base URL, e.g. `https://api.velafi.com` (no trailing slash).
    pub base_url: String,
    /// `X-BH-APIKEY`.
    pub api_key: Secret,
    /// HMAC key of the token request.
    pub api_secret: Secret,
    /// Request paths.
    pub paths: BhPaths,
    /// Event types `hookgate register bh` registers when none are named.
    pub event_types: Vec<String>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// A cached token is renewed this long before its `expireTime`.
    pub token_renew_before: Duration,
    /// Response `code`s that mean "token invalid or expired" (BH documents
    /// none): the client fetches a new token and retries once. HTTP 401 always does.
    pub token_error_codes: Vec<i64>,
}

/// A tenant's Keeta open-platform account (`[providers.keeta]`). The app id
/// and secret are the Keeta source's own.
#[derive(Debug, Clone)]
pub struct KeetaApi {
    /// Base URL, e.g. `https://open.mykeeta.com` (no trailing slash).
    pub base_url: String,
    /// Event ids `hookgate register keeta` sets when none are named.
    pub events: Vec<i64>,
    /// Per-request timeout.
    pub timeout: Duration,
}

/// Provider management APIs of a tenant.
#[derive(Debug, Clone, Default)]
pub struct Providers {
    /// BH, when configured.
    pub bh: Option<BhApi>,
    /// Keeta, when configured.
    pub keeta: Option<KeetaApi>,
}

/// Keeta's general webhook event ids (PROVIDERS.md §1a), the default of `[providers.keeta] events`.
pub const KEETA_GENERAL_EVENTS: [i64; 11] = [1001, 1002, 1003, 1004, 1005, 1006, 1007, 1101, 1102, 1201, 1202];

/// One tenant.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// Tenant id (URL segment).
    pub id: TenantId,
    /// A demo tenant may carry literal secrets.
    pub demo: bool,
    /// Topic exchange its events are published to.
    pub exchange: String,
    /// RabbitMQ virtual host of its exchange and queues (`None`: the URL's).
    pub vhost: Option<String>,
    /// Queues declared and bound at start.
    pub subscriptions: Vec<Subscription>,
    /// Host names requests for this tenant arrive on (`Host`), for its
    /// sources' fixed `paths`.
    pub hosts: Vec<String>,
    /// Sources by id.
    pub sources: BTreeMap<SourceId, Source>,
    /// Provider management APIs (`hookgate register`).
    pub providers: Providers,
    /// Days its notifications, events and rejections are kept (`None`: the
    /// service's `retention.days`).
    pub retention_days: Option<u32>,
    /// Its own operator-event endpoint (`[watch] notify_url`), besides the
    /// gateway's.
    pub notify: Option<TenantNotify>,
    /// The keys its published messages are signed with (`[signing]`);
    /// `None`: unsigned.
    pub signing: Option<Arc<hookgate_signature::standard_webhooks::Signer>>,
    /// File it was loaded from (for messages).
    pub file: PathBuf,
}

impl Tenant {
    /// Looks up a source by its URL segment.
    pub fn source(&self, id: &str) -> Option<&Source> {
        SourceId::parse(id).ok().and_then(|id| self.sources.get(&id))
    }

    /// A source to edit (tests, tooling).
    pub fn source_mut(&mut self, id: &str) -> Option<&mut Source> {
        SourceId::parse(id).ok().and_then(|id| self.sources.get_mut(&id))
    }
}

/// All tenants, by id. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Tenants {
    by_id: Arc<HashMap<TenantId, Arc<Tenant>>>,
    /// (host, fixed path) → (tenant, source).
    aliases: Arc<HashMap<(String, String), (TenantId, SourceId)>>,
    /// Header names some source takes a credential in (`access.token`):
    /// their values are never stored.
    token_headers: Arc<std::collections::HashSet<String>>,
    /// Query parameters some source names in `access.redact_query`.
    redacted_params: Arc<std::collections::HashSet<String>>,
}

/// The running tenant set, replaced whole by a reload (`SIGHUP`, the file
/// watch, `POST /v1/config/reload`). Readers take a snapshot
/// ([`LiveTenants::load`]) and keep it for the work at hand, so a request
/// in flight finishes under the set it started with. Cheap to clone: every
/// clone sees the same set.
#[derive(Debug, Clone)]
pub struct LiveTenants {
    current: Arc<arc_swap::ArcSwap<Tenants>>,
}

impl LiveTenants {
    /// A live set starting with `tenants`.
    pub fn new(tenants: Tenants) -> LiveTenants {
        LiveTenants {
            current: Arc::new(arc_swap::ArcSwap::from_pointee(tenants)),
        }
    }

    /// The set as it is now.
    pub fn load(&self) -> Arc<Tenants> {
        self.current.load_full()
    }

    /// Replaces the set (already validated as a whole).
    pub fn replace(&self, tenants: Tenants) {
        self.current.store(Arc::new(tenants));
    }
}

impl From<Tenants> for LiveTenants {
    fn from(tenants: Tenants) -> LiveTenants {
        LiveTenants::new(tenants)
    }
}

impl Tenants {
    /// Looks up a tenant by its URL segment.
    pub fn get(&self, id: &str) -> Option<&Arc<Tenant>> {
        TenantId::parse(id).ok().and_then(|id| self.by_id.get(&id))
    }

    /// The tenant and source a fixed path reaches on a host name (the
    /// request's `Host`, any port and case).
    pub fn by_alias(&self, host: &str, path: &str) -> Option<(&Arc<Tenant>, &Source)> {
        let host = normalize_host(host);
        let (tenant, source) = self.aliases.get(&(host, path.to_owned()))?;
        let tenant = self.by_id.get(tenant)?;
        let source = tenant.sources.get(source)?;
        Some((tenant, source))
    }

    /// Tenants sorted by id.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Tenant>> {
        let mut v: Vec<_> = self.by_id.values().collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v.into_iter()
    }

    /// Header names some source takes a credential in (`access.token`).
    pub fn token_headers(&self) -> &std::collections::HashSet<String> {
        &self.token_headers
    }

    /// Configurations that are valid but probably not meant, one sentence
    /// each (`config check` prints them; `serve` logs them).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for t in self.iter() {
            for s in t.sources.values() {
                let a = &s.access;
                if let (Some(header), true) = (&a.trusted_proxy_header, a.trusted_proxies.is_empty()) {
                    out.push(format!(
                        "tenant {} source {}: access.trusted_proxy_header = {header:?} without access.trusted_proxies \
                         believes the header from ANY peer: a client that reaches the listener directly can claim \
                         any address; list the proxies' addresses in trusted_proxies",
                        t.id, s.id
                    ));
                }
            }
        }
        out
    }

    /// Whether the value of query parameter `name` is kept out of stored
    /// URLs: a source names it, or it looks like a credential.
    pub fn redacts_param(&self, name: &str) -> bool {
        is_credential_param(name) || self.redacted_params.contains(&name.to_ascii_lowercase())
    }

    /// `url` with the values of its redacted query parameters replaced by
    /// `<redacted>` (see [`Tenants::redacts_param`]).
    pub fn redact_url(&self, url: &str) -> String {
        let Some((head, query)) = url.split_once('?') else {
            return url.to_owned();
        };
        let params: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if self.redacts_param(name) => format!("{name}=<redacted>"),
                _ => pair.to_owned(),
            })
            .collect();
        format!("{head}?{}", params.join("&"))
    }

    /// Number of tenants.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when no tenant is configured.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Builds the set from tenants made in code; ids must be unique.
    pub fn from_list(list: Vec<Tenant>) -> Result<Tenants, ConfigError> {
        let mut by_id = HashMap::new();
        for t in list {
            if let Some(prev) = by_id.get(&t.id) {
                let prev: &Arc<Tenant> = prev;
                return Err(ConfigError::invalid(
                    &t.file,
                    "id",
                    format!("tenant {} is also defined in {}", t.id, prev.file.display()),
                ));
            }
            by_id.insert(t.id.clone(), Arc::new(t));
        }
        let mut aliases: HashMap<(String, String), (TenantId, SourceId)> = HashMap::new();
        let mut tenants: Vec<&Arc<Tenant>> = by_id.values().collect();
        tenants.sort_by(|a, b| a.id.cmp(&b.id));
        for t in tenants {
            for s in t.sources.values() {
                for path in &s.paths {
                    for host in &t.hosts {
                        let key = (host.clone(), path.clone());
                        if let Some((other_t, other_s)) = aliases.get(&key) {
                            return Err(ConfigError::invalid(
                                &t.file,
                                format!("sources.{}.paths", s.id),
                                format!("{path} on {host} is also the path of {other_t}/{other_s}"),
                            ));
                        }
                        aliases.insert(key, (t.id.clone(), s.id.clone()));
                    }
                }
            }
        }
        let token_headers = by_id
            .values()
            .flat_map(|t| t.sources.values())
            .filter_map(|s| s.access.token.as_ref().map(|tok| tok.header.clone()))
            .collect();
        let redacted_params = by_id
            .values()
            .flat_map(|t| t.sources.values())
            .flat_map(|s| s.access.redact_query.iter().cloned())
            .collect();
        Ok(Tenants {
            by_id: Arc::new(by_id),
            aliases: Arc::new(aliases),
            token_headers: Arc::new(token_headers),
            redacted_params: Arc::new(redacted_params),
        })
    }

    /// Loads every `*.toml` of a directory (a missing directory means no tenants).
    pub fn load_dir(dir: &Path, service: &ServiceSettings) -> Result<Tenants, ConfigError> {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(ConfigError::Read {
                    file: dir.display().to_string(),
                    cause: Box::new(e),
                });
            }
        };
        files.sort();
        let tenants = files
            .iter()
            .map(|f| load_tenant_file(f, service))
            .collect::<Result<Vec<_>, _>>()?;
        Tenants::from_list(tenants)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantFile {
    id: String,
    #[serde(default)]
    demo: bool,
    exchange: Option<String>,
    vhost: Option<String>,
    #[serde(default)]
    subscriptions: Vec<Subscription>,
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    sources: BTreeMap<String, Value>,
    #[serde(default)]
    providers: ProvidersFile,
    retention_days: Option<u32>,
    watch: Option<TenantWatchFile>,
    signing: Option<SigningFile>,
}

/// `[signing]` of a tenant file: the keys every published message is signed
/// with (Standard Webhooks headers; docs/events.md, "Verifying a message").
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SigningFile {
    /// `whsec_<base64>` secrets: `v1` (HMAC-SHA256) signatures.
    #[serde(default)]
    secrets: Vec<SecretRef>,
    /// PKCS#8 PEM Ed25519 private keys: `v1a` signatures.
    #[serde(default)]
    ed25519_keys: Vec<SecretRef>,
}

/// `[watch]` of a tenant file: where this tenant's operator events are POSTed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantWatchFile {
    notify_url: String,
    notify_secret: SecretRef,
}

/// Where a tenant's operator events (its incidents' transitions) are also
/// POSTed, signed with Standard Webhooks (`[watch]` of the tenant file).
#[derive(Debug, Clone)]
pub struct TenantNotify {
    /// The endpoint.
    pub url: String,
    /// The HMAC key of its `whsec_` secret.
    pub key: hookgate_core::SecretBytes,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ProvidersFile {
    bh: Option<BhApiFile>,
    keeta: Option<KeetaApiFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BhApiFile {
    base_url: String,
    api_key: SecretRef,
    api_secret: SecretRef,
    #[serde(default)]
    paths: BhPaths,
    #[serde(default = "default_bh_event_types")]
    event_types: Vec<String>,
    #[serde(default = "ten_thousand")]
    timeout_ms: u64,
    #[serde(default = "sixty")]
    token_renew_before_secs: u64,
    #[serde(default = "default_token_error_codes")]
    token_error_codes: Vec<i64>,
}

fn default_bh_event_types() -> Vec<String> {
    vec!["ORDER_WEBHOOK".to_owned()]
}

fn ten_thousand() -> u64 {
    10_000
}

fn sixty() -> u64 {
    60
}

fn default_token_error_codes() -> Vec<i64> {
    vec![401, 403]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeetaApiFile {
    base_url: String,
    #[serde(default = "default_keeta_events")]
    events: Vec<i64>,
    #[serde(default = "ten_thousand")]
    timeout_ms: u64,
}

fn default_keeta_events() -> Vec<i64> {
    KEETA_GENERAL_EVENTS.to_vec()
}

/// Keys every source takes besides `kind`; the rest belong to the kind.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CommonFile {
    #[serde(default)]
    verification: Verification,
    body_limit_bytes: Option<usize>,
    access: Option<AccessFile>,
    #[serde(default)]
    allow_unauthenticated: bool,
    #[serde(default)]
    paths: Vec<String>,
    quiet_after: Option<String>,
    active_hours: Option<crate::watch::ActiveHoursFile>,
    #[serde(default)]
    stale_policy: StalePolicy,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessFile {
    #[serde(default)]
    allow_ips: Vec<String>,
    trusted_proxy_header: Option<String>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
    basic_auth: Option<BasicAuthFile>,
    token: Option<TokenFile>,
    #[serde(default)]
    redact_query: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BasicAuthFile {
    username: String,
    password: SecretRef,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    header: String,
    value: SecretRef,
}

fn load_tenant_file(path: &Path, service: &ServiceSettings) -> Result<Tenant, ConfigError> {
    let name = path.display().to_string();
    let raw: TenantFile = config::Config::builder()
        .add_source(config::File::from(path.to_path_buf()).format(config::FileFormat::Toml))
        .build()
        .and_then(|c| c.try_deserialize())
        .map_err(|e| file_error(&name, e))?;
    let base_dir = path.parent().unwrap_or(Path::new("."));
    build_tenant(raw, path, base_dir, service)
}

/// Resolution context of one tenant file.
struct Ctx<'a> {
    file: &'a Path,
    base_dir: &'a Path,
    demo: bool,
}

impl Ctx<'_> {
    fn invalid(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::invalid(self.file, key, message)
    }

    fn parse<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
        fields: serde_json::Map<String, Value>,
    ) -> Result<T, ConfigError> {
        serde_json::from_value(Value::Object(fields)).map_err(|e| self.invalid(key, e.to_string()))
    }
}

impl Resolver for Ctx<'_> {
    fn secret(&self, reference: &SecretRef) -> Result<Secret, String> {
        reference.resolve(self.demo, self.base_dir)
    }

    fn read_text(&self, path: &str) -> Result<String, String> {
        let p = self.base_dir.join(path);
        std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    }
}

fn build_tenant(
    raw: TenantFile,
    file: &Path,
    base_dir: &Path,
    service: &ServiceSettings,
) -> Result<Tenant, ConfigError> {
    let id = TenantId::parse(&raw.id).map_err(|e| ConfigError::invalid(file, "id", e.to_string()))?;
    let exchange = raw
        .exchange
        .unwrap_or_else(|| format!("{}{}", service.rabbitmq.exchange_prefix, id));
    if exchange.is_empty() || exchange.starts_with("amq.") {
        return Err(ConfigError::invalid(
            file,
            "exchange",
            "must be non-empty and not start with amq.",
        ));
    }
    let ctx = Ctx {
        file,
        base_dir,
        demo: raw.demo,
    };
    for (i, sub) in raw.subscriptions.iter().enumerate() {
        let key = format!("subscriptions[{i}]");
        if sub.queue.is_empty() || sub.queue.starts_with("amq.") {
            return Err(ctx.invalid(format!("{key}.queue"), "must be non-empty and not start with amq."));
        }
        if sub.bindings.is_empty() {
            return Err(ctx.invalid(
                format!("{key}.bindings"),
                "at least one binding key is required (e.g. \"#\")",
            ));
        }
    }
    if raw.vhost.as_deref() == Some("") {
        return Err(ctx.invalid("vhost", "must not be empty (leave it out for the URL's vhost)"));
    }
    let mut hosts = Vec::new();
    for (i, h) in raw.hosts.iter().enumerate() {
        let host = normalize_host(h);
        if host.is_empty() || host.contains(['/', ' ', '@']) || h.contains("://") {
            return Err(ctx.invalid(format!("hosts[{i}]"), "expected a host name (hooks.acme.example)"));
        }
        hosts.push(host);
    }
    let mut sources = BTreeMap::new();
    for (sid, value) in raw.sources {
        let source = build_source(&ctx, &id, &hosts, &sid, value, service)?;
        if !source.paths.is_empty() && hosts.is_empty() {
            return Err(ctx.invalid(
                format!("sources.{sid}.paths"),
                "fixed paths are routed by host name: list the tenant's `hosts`",
            ));
        }
        sources.insert(source.id.clone(), source);
    }
    let providers = build_providers(&ctx, raw.providers)?;
    Ok(Tenant {
        id,
        demo: raw.demo,
        exchange,
        vhost: raw.vhost,
        subscriptions: raw.subscriptions,
        hosts,
        sources,
        providers,
        retention_days: match raw.retention_days {
            Some(0) => return Err(ctx.invalid("retention_days", "must be at least 1")),
            days => days,
        },
        notify: match raw.watch {
            None => None,
            Some(w) => {
                if !(w.notify_url.starts_with("https://") || w.notify_url.starts_with("http://")) {
                    return Err(ctx.invalid("watch.notify_url", "expected an http(s) URL"));
                }
                let secret = ctx
                    .secret(&w.notify_secret)
                    .map_err(|m| ctx.invalid("watch.notify_secret", m))?;
                let key = crate::service::whsec_key(&secret)
                    .ok_or_else(|| ctx.invalid("watch.notify_secret", "expected whsec_<base64>"))?;
                Some(TenantNotify { url: w.notify_url, key })
            }
        },
        signing: match raw.signing {
            None => None,
            Some(signing) => Some(Arc::new(signer(&ctx, &signing)?)),
        },
        file: file.to_path_buf(),
    })
}

/// The signer of `[signing]`: every secret and key resolved and read.
fn signer(ctx: &Ctx<'_>, file: &SigningFile) -> Result<hookgate_signature::standard_webhooks::Signer, ConfigError> {
    use hookgate_signature::standard_webhooks::{Ed25519Key, Signer};
    if file.secrets.is_empty() && file.ed25519_keys.is_empty() {
        return Err(ctx.invalid(
            "signing",
            "names no key: set secrets = [{ env = \"VAR\" }] (whsec_<base64>) and/or ed25519_keys = [{ file = \"key.pem\" }]",
        ));
    }
    let mut hmac = Vec::new();
    for (i, reference) in file.secrets.iter().enumerate() {
        let key = format!("signing.secrets[{i}]");
        let secret = ctx.secret(reference).map_err(|m| ctx.invalid(&key, m))?;
        let bytes = crate::service::whsec_key(&secret)
            .filter(|k| k.expose().len() >= 16)
            .ok_or_else(|| ctx.invalid(&key, "expected whsec_<base64> of at least 16 bytes"))?;
        hmac.push(bytes.expose().to_vec());
    }
    let mut ed25519 = Vec::new();
    for (i, reference) in file.ed25519_keys.iter().enumerate() {
        let key = format!("signing.ed25519_keys[{i}]");
        let pem = ctx.secret(reference).map_err(|m| ctx.invalid(&key, m))?;
        ed25519.push(Ed25519Key::from_pkcs8(pem.expose().as_bytes()).map_err(|m| ctx.invalid(&key, m))?);
    }
    Ok(Signer::new(hmac, ed25519))
}

/// A host name as routing compares it: lowercase, without port or final dot.
pub fn normalize_host(host: &str) -> String {
    let host = host.trim();
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None if host.matches(':').count() == 1 => host.split(':').next().unwrap_or_default(),
        None => host,
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

fn base_url(ctx: &Ctx<'_>, key: &str, url: &str) -> Result<String, ConfigError> {
    let url = url.trim_end_matches('/');
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ctx.invalid(key, "expected an http:// or https:// URL"));
    }
    Ok(url.to_owned())
}

fn build_providers(ctx: &Ctx<'_>, raw: ProvidersFile) -> Result<Providers, ConfigError> {
    let bh = raw
        .bh
        .map(|f| {
            let secret = |k: &str, r: &SecretRef| {
                r.resolve(ctx.demo, ctx.base_dir)
                    .map_err(|m| ctx.invalid(format!("providers.bh.{k}"), m))
            };
            let paths = &f.paths;
            for (k, p) in [
                ("token", &paths.token),
                ("create", &paths.create),
                ("update", &paths.update),
                ("list", &paths.list),
                ("delete", &paths.delete),
            ] {
                if !p.starts_with('/') {
                    return Err(ctx.invalid(format!("providers.bh.paths.{k}"), "must start with /"));
                }
            }
            for (k, p) in [("update", &paths.update), ("delete", &paths.delete)] {
                if !p.contains("{webhookId}") {
                    return Err(ctx.invalid(format!("providers.bh.paths.{k}"), "must contain {webhookId}"));
                }
            }
            if f.event_types.is_empty() {
                return Err(ctx.invalid("providers.bh.event_types", "must not be empty"));
            }
            Ok(BhApi {
                base_url: base_url(ctx, "providers.bh.base_url", &f.base_url)?,
                api_key: secret("api_key", &f.api_key)?,
                api_secret: secret("api_secret", &f.api_secret)?,
                paths: f.paths,
                event_types: f.event_types,
                timeout: Duration::from_millis(f.timeout_ms.max(1)),
                token_renew_before: Duration::from_secs(f.token_renew_before_secs),
                token_error_codes: f.token_error_codes,
            })
        })
        .transpose()?;
    let keeta = raw
        .keeta
        .map(|f| {
            if f.events.is_empty() {
                return Err(ctx.invalid("providers.keeta.events", "must not be empty"));
            }
            Ok(KeetaApi {
                base_url: base_url(ctx, "providers.keeta.base_url", &f.base_url)?,
                events: f.events,
                timeout: Duration::from_millis(f.timeout_ms.max(1)),
            })
        })
        .transpose()?;
    Ok(Providers { bh, keeta })
}

fn build_source(
    ctx: &Ctx<'_>,
    tenant: &TenantId,
    hosts: &[String],
    sid: &str,
    value: Value,
    service: &ServiceSettings,
) -> Result<Source, ConfigError> {
    let key = format!("sources.{sid}");
    let source_id = SourceId::parse(sid).map_err(|e| ctx.invalid(&key, e.to_string()))?;
    let Value::Object(mut fields) = value else {
        return Err(ctx.invalid(&key, "must be a table"));
    };
    let mut found = Vec::new();
    for (k, v) in &fields {
        credentials(ctx, &format!("{key}.{k}"), v, &mut found);
    }
    let kind_name = match fields.remove("kind") {
        Some(Value::String(k)) => k,
        _ => return Err(ctx.invalid(format!("{key}.kind"), "is required")),
    };
    let provider = hookgate_providers::lookup(&kind_name).ok_or_else(|| {
        let known: Vec<_> = hookgate_providers::kinds().map(|k| k.as_str()).collect();
        ctx.invalid(
            format!("{key}.kind"),
            format!("unknown kind {kind_name:?}; known: {}", known.join(", ")),
        )
    })?;
    let mut common = serde_json::Map::new();
    for k in [
        "verification",
        "body_limit_bytes",
        "access",
        "allow_unauthenticated",
        "paths",
        "quiet_after",
        "active_hours",
        "stale_policy",
    ] {
        if let Some(v) = fields.remove(k) {
            common.insert(k.to_owned(), v);
        }
    }
    let common: CommonFile = ctx.parse(&key, common)?;
    for (i, path) in common.paths.iter().enumerate() {
        let ok = path.starts_with('/')
            && path.len() <= 200
            && !path.starts_with("/hooks/")
            && path != "/healthz"
            && !path.contains(['?', '#', '{', '}', ' ']);
        if !ok {
            return Err(ctx.invalid(
                format!("{key}.paths[{i}]"),
                "expected a fixed path like /webhook/authorization (not under /hooks/, no query)",
            ));
        }
    }
    let watch = crate::SourceWatch {
        quiet_after: common
            .quiet_after
            .as_deref()
            .map(crate::watch::parse_duration)
            .transpose()
            .map_err(|m| ctx.invalid(format!("{key}.quiet_after"), m))?,
        active_hours: common
            .active_hours
            .map(|a| a.build())
            .transpose()
            .map_err(|m| ctx.invalid(format!("{key}.active_hours"), m))?,
    };
    let access = build_access(ctx, &format!("{key}.access"), common.access)?;
    // The URL the provider is told to call: with fixed paths, the first of
    // them on the tenant's first host (what a provider that appends a fixed
    // path to a host calls, and signs); else the gateway's own route.
    let default_url = match (hosts.first(), common.paths.first()) {
        (Some(host), Some(path)) => format!("https://{host}{path}"),
        _ => format!("{}/hooks/{}/{}", service.http.public_base_url, tenant, source_id),
    };
    let settings_ctx = SettingsContext {
        key: &key,
        default_callback_url: &default_url,
        access_configured: access.is_configured(),
        basic_auth: access.basic_auth.is_some(),
        allow_unauthenticated: common.allow_unauthenticated,
        resolver: ctx,
    };
    let settings = provider
        .settings(fields, &settings_ctx)
        .map_err(|e| ConfigError::invalid(ctx.file, e.key, e.message))?;
    Ok(Source {
        id: source_id,
        kind: provider.kind(),
        body_limit_bytes: common.body_limit_bytes.unwrap_or(service.http.body_limit_bytes),
        verification: common.verification,
        access,
        settings,
        paths: common.paths,
        watch,
        stale_policy: common.stale_policy,
        credentials: found,
    })
}

fn build_access(ctx: &Ctx<'_>, key: &str, file: Option<AccessFile>) -> Result<Access, ConfigError> {
    let Some(f) = file else { return Ok(Access::default()) };
    let allow_ips = f
        .allow_ips
        .iter()
        .enumerate()
        .map(|(i, c)| Cidr::parse(c).map_err(|m| ctx.invalid(format!("{key}.allow_ips[{i}]"), m)))
        .collect::<Result<Vec<_>, _>>()?;
    let trusted_proxies = f
        .trusted_proxies
        .iter()
        .enumerate()
        .map(|(i, c)| Cidr::parse(c).map_err(|m| ctx.invalid(format!("{key}.trusted_proxies[{i}]"), m)))
        .collect::<Result<Vec<_>, _>>()?;
    if !trusted_proxies.is_empty() && f.trusted_proxy_header.is_none() {
        return Err(ctx.invalid(
            format!("{key}.trusted_proxies"),
            "needs trusted_proxy_header (the header those proxies set)",
        ));
    }
    let basic_auth = f
        .basic_auth
        .map(|b| {
            let password = b
                .password
                .resolve(ctx.demo, ctx.base_dir)
                .map_err(|m| ctx.invalid(format!("{key}.basic_auth.password"), m))?;
            Ok::<_, ConfigError>(BasicAuth {
                username: b.username,
                password,
            })
        })
        .transpose()?;
    let token = f
        .token
        .map(|t| {
            let value = t
                .value
                .resolve(ctx.demo, ctx.base_dir)
                .map_err(|m| ctx.invalid(format!("{key}.token.value"), m))?;
            Ok::<_, ConfigError>(HeaderToken {
                header: t.header.to_ascii_lowercase(),
                value,
            })
        })
        .transpose()?;
    Ok(Access {
        allow_ips,
        trusted_proxy_header: f.trusted_proxy_header.map(|h| h.to_ascii_lowercase()),
        trusted_proxies,
        basic_auth,
        token,
        redact_query: f.redact_query.iter().map(|n| n.to_ascii_lowercase()).collect(),
    })
}

/// Parses one tenant from TOML text (tests, `config check` of a single file).
pub fn tenant_from_toml(text: &str, file: &Path, service: &ServiceSettings) -> Result<Tenant, ConfigError> {
    let raw: TenantFile = config::Config::builder()
        .add_source(config::File::from_str(text, config::FileFormat::Toml))
        .build()
        .and_then(|c| c.try_deserialize())
        .map_err(|e| file_error(&file.display().to_string(), e))?;
    build_tenant(raw, file, file.parent().unwrap_or(Path::new(".")), service)
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

    fn parse(text: &str) -> Result<Tenant, ConfigError> {
        tenant_from_toml(
            text,
            Path::new("tenants.d/t.toml"),
            &ServiceSettings::defaults().unwrap(),
        )
    }

    #[test]
    fn demo_tenant_with_literal_secret_and_default_callback() {
        let t = parse(
            r#"id = "demo"
            demo = true
            [sources.keeta]
            kind = "keeta"
            app_id = 1000001
            app_secrets = [{ demo = "demo-keeta-secret" }]"#,
        )
        .unwrap();
        assert_eq!(t.exchange, "hookgate.demo");
        let src = t.source("keeta").unwrap();
        let Some(k) = src.settings.downcast::<hookgate_providers::keeta::Settings>() else {
            panic!("not keeta")
        };
        assert_eq!(k.callback_url, "http://127.0.0.1:8080/hooks/demo/keeta");
        assert_eq!(k.app_secrets[0].expose(), "demo-keeta-secret");
        assert_eq!(src.verification, Verification::Enforce);
        assert_eq!(k.recipes.len(), hookgate_providers::keeta::signature::Recipe::ALL.len());
        assert!(
            !format!("{t:?}").contains("demo-keeta-secret"),
            "secret leaked into Debug"
        );
    }

    #[test]
    fn a_pagsmile_partner_id_is_pinned_as_text_or_number() {
        for value in ["\"100000\"", "100000"] {
            let t = parse(&format!(
                "id = \"acme\"\n[sources.cards]\nkind = \"pagsmile-issuing\"\nallow_unauthenticated = true\npartner_id = {value}"
            ))
            .unwrap();
            let s = t.source("cards").unwrap();
            let settings = s
                .settings
                .downcast::<hookgate_providers::pagsmile::IssuingSettings>()
                .unwrap();
            assert_eq!(settings.partner_id.as_deref(), Some("100000"), "{value}");
        }
        let e = parse("id = \"acme\"\n[sources.cards]\nkind = \"pagsmile-issuing\"\nallow_unauthenticated = true\npartner_id = \" \"")
            .unwrap_err()
            .with_causes();
        assert!(e.contains("partner_id"), "{e}");
    }

    #[test]
    fn signing_keys_are_read_and_a_bad_one_is_named() {
        let pem = hookgate_signature::standard_webhooks::Ed25519Key::generate_pem().unwrap();
        std::env::set_var("HOOKGATE_TEST_SIGNING_PEM", &pem);
        let t = parse(
            r#"id = "acme"
            demo = true
            [signing]
            secrets = [{ demo = "whsec_ZGVtby1zaWduaW5nLXNlY3JldC1vZi1ob29rZ2F0ZSE=" }]
            ed25519_keys = [{ env = "HOOKGATE_TEST_SIGNING_PEM" }]"#,
        )
        .unwrap();
        let signer = t.signing.as_ref().unwrap();
        assert_eq!(signer.hmac_key_ids().len(), 1);
        assert_eq!(signer.ed25519_keys().len(), 1);
        assert_eq!(signer.sign("e", 1, b"{}").split(' ').count(), 2);
        assert!(!format!("{t:?}").contains("ZGVtby1zaWduaW5n"), "no secret in Debug");
        assert!(
            parse(r#"id = "acme""#).unwrap().signing.is_none(),
            "unsigned by default"
        );

        for (table, key, says) in [
            ("[signing]", "signing", "names no key"),
            (
                "[signing]\nsecrets = [{ demo = \"whsec_c2hvcnQ=\" }]",
                "signing.secrets[0]",
                "at least 16 bytes",
            ),
            (
                "[signing]\nsecrets = [{ env = \"HOOKGATE_TEST_UNSET_SIGNING\" }]",
                "signing.secrets[0]",
                "not set",
            ),
            (
                "[signing]\ned25519_keys = [{ demo = \"not a key\" }]",
                "signing.ed25519_keys[0]",
                "Ed25519",
            ),
            ("[signing]\nkeys = []", "signing", "unknown field"),
        ] {
            let e = parse(&format!("id = \"acme\"\ndemo = true\n{table}"))
                .unwrap_err()
                .with_causes();
            assert!(e.contains(key) && e.contains(says), "{table}: {e}");
        }
    }

    #[test]
    fn a_source_with_fixed_paths_is_called_at_its_first_path_on_the_first_host() {
        let t = parse(
            r#"id = "acme"
            demo = true
            hosts = ["Hooks.Acme.Example", "hooks2.acme.example"]
            [sources.auth]
            kind = "keeta-auth"
            client_secrets = [{ demo = "cs" }]
            paths = ["/webhook/authorization", "/other"]
            [sources.pinned]
            kind = "keeta-auth"
            client_secrets = [{ demo = "cs" }]
            paths = ["/webhook/pinned"]
            callback_url = "https://portal.example/registered""#,
        )
        .unwrap();
        let url = |s: &str| t.source(s).and_then(|s| s.settings.callback_url()).map(str::to_owned);
        assert_eq!(
            url("auth").as_deref(),
            Some("https://hooks.acme.example/webhook/authorization")
        );
        assert_eq!(url("pinned").as_deref(), Some("https://portal.example/registered"));
        // Every credential is named by its place, never by its value.
        let names: Vec<&str> = t
            .source("auth")
            .unwrap()
            .credentials
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["sources.auth.client_secrets[0] (demo)"]);
    }

    #[test]
    fn literal_secrets_outside_demo_tenants_are_refused() {
        let err = parse(
            r#"id = "acme"
            [sources.keeta]
            kind = "keeta"
            app_secrets = [{ demo = "x" }]"#,
        )
        .unwrap_err()
        .with_causes();
        assert!(
            err.contains("tenants.d/t.toml") && err.contains("sources.keeta.app_secrets[0]"),
            "{err}"
        );
    }

    #[test]
    fn missing_env_secret_names_file_key_and_variable() {
        let err = parse(
            r#"id = "acme"
            [sources.keeta]
            kind = "keeta"
            app_secrets = [{ env = "HOOKGATE_TEST_SURELY_UNSET_VAR" }]"#,
        )
        .unwrap_err()
        .with_causes();
        assert!(
            err.contains("sources.keeta.app_secrets[0]") && err.contains("HOOKGATE_TEST_SURELY_UNSET_VAR"),
            "{err}"
        );
    }

    #[test]
    fn fixed_paths_are_routed_by_host_and_must_be_unambiguous() {
        let source = |tenant: &str, hosts: &str| {
            format!(
                "id = \"{tenant}\"\nhosts = [{hosts}]\n[sources.pay]\nkind = \"pagsmile-payin\"\nsecrets = [{{ demo = \"x\" }}]\npaths = [\"/webhook/pay\"]\n"
            )
        };
        let demo = |text: String| text.replace("id = ", "demo = true\nid = ");
        let a = parse(&demo(source("a", "\"Hooks.A.example:443\""))).unwrap();
        assert_eq!(a.hosts, vec!["hooks.a.example".to_owned()]);
        let b = parse(&demo(source("b", "\"hooks.b.example\""))).unwrap();
        let tenants = Tenants::from_list(vec![a, b]).unwrap();
        let (t, s) = tenants.by_alias("HOOKS.A.EXAMPLE:8443", "/webhook/pay").unwrap();
        assert_eq!((t.id.as_str(), s.id.as_str()), ("a", "pay"));
        assert_eq!(
            tenants
                .by_alias("hooks.b.example", "/webhook/pay")
                .unwrap()
                .0
                .id
                .as_str(),
            "b"
        );
        assert!(tenants.by_alias("hooks.c.example", "/webhook/pay").is_none());
        assert!(tenants.by_alias("hooks.a.example", "/webhook/other").is_none());

        // The same path on the same host in two tenants is ambiguous.
        let a = parse(&demo(source("a", "\"hooks.shared.example\""))).unwrap();
        let b = parse(&demo(source("b", "\"hooks.shared.example\""))).unwrap();
        let err = Tenants::from_list(vec![a, b]).unwrap_err().with_causes();
        assert!(
            err.contains("sources.pay.paths") && err.contains("also the path"),
            "{err}"
        );
        // Paths need host names, and must be fixed paths outside /hooks/.
        let err = parse(&demo(source("a", ""))).unwrap_err().with_causes();
        assert!(err.contains("hosts"), "{err}");
        let bad = demo(source("a", "\"h.example\"")).replace("/webhook/pay", "/hooks/a/pay");
        assert!(parse(&bad).unwrap_err().with_causes().contains("paths[0]"));
    }

    #[test]
    fn unknown_keys_and_kinds_are_errors() {
        let err = parse("id = \"a\"\ncolour = \"red\"\n").unwrap_err().with_causes();
        assert!(err.contains("tenants.d/t.toml") && err.contains("colour"), "{err}");
        let err = parse(
            r#"id = "a"
            [sources.k]
            kind = "keeta"
            app_secret = [{ env = "X" }]"#,
        )
        .unwrap_err()
        .with_causes();
        assert!(err.contains("app_secret"), "{err}");
        let err = parse("id = \"a\"\n[sources.k]\nkind = \"nope\"\n")
            .unwrap_err()
            .with_causes();
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn recipes_are_validated() {
        let err = parse(
            r#"id = "a"
            demo = true
            [sources.k]
            kind = "keeta"
            app_secrets = [{ demo = "s" }]
            recipes = ["sha1"]"#,
        )
        .unwrap_err()
        .with_causes();
        assert!(
            err.contains("sources.k.recipes") && err.contains("callback_url?params+secret"),
            "{err}"
        );
    }

    #[test]
    fn unsigned_pagsmile_issuing_needs_access_controls() {
        let err = parse("id = \"a\"\n[sources.cards]\nkind = \"pagsmile-issuing\"\n")
            .unwrap_err()
            .with_causes();
        assert!(
            err.contains("sources.cards") && err.contains("allow_unauthenticated"),
            "{err}"
        );
        let ok =
            parse("id = \"a\"\n[sources.cards]\nkind = \"pagsmile-issuing\"\nallow_unauthenticated = true\n").unwrap();
        assert!(!ok.source("cards").unwrap().access.is_configured());
        let t = parse(
            r#"id = "a"
            demo = true
            [sources.cards]
            kind = "pagsmile-issuing"
            timestamp_utc_offset = "+08:00"
            [sources.cards.access]
            allow_ips = ["10.0.0.0/8", "203.0.113.7"]
            trusted_proxy_header = "X-Forwarded-For"
            basic_auth = { username = "pagsmile", password = { demo = "pw" } }"#,
        )
        .unwrap();
        let src = t.source("cards").unwrap();
        assert_eq!(src.access.allow_ips.len(), 2);
        assert_eq!(src.access.trusted_proxy_header.as_deref(), Some("x-forwarded-for"));
        let Some(p) = src.settings.downcast::<hookgate_providers::pagsmile::IssuingSettings>() else {
            panic!()
        };
        assert_eq!(p.timestamp_utc_offset_minutes, 480);
        let err = parse(
            r#"id = "a"
            [sources.cards]
            kind = "pagsmile-issuing"
            access = { allow_ips = ["10.0.0.0/99"] }"#,
        )
        .unwrap_err()
        .with_causes();
        assert!(err.contains("sources.cards.access.allow_ips[0]"), "{err}");
    }

    #[test]
    fn every_kind_of_the_demo_shape_loads() {
        let t = parse(
            r#"id = "demo"
            demo = true
            [sources.keeta-auth]
            kind = "keeta-auth"
            client_secrets = [{ demo = "cs" }]
            [sources.pagsmile-payin]
            kind = "pagsmile-payin"
            secrets = [{ demo = "ps" }]
            timestamp_tolerance_secs = 60
            [sources.pagsmile-payout]
            kind = "pagsmile-payout"
            app_keys = [{ demo = "ak" }]
            [sources.webhooks]
            kind = "standard-webhooks"
            secrets = [{ demo = "whsec_ZGVtby1zdGFuZGFyZC13ZWJob29rcy1zZWNyZXQ=" }]
            [sources.bh]
            kind = "bh"
            public_keys = [{ pem_file = "../config/demo/bh-public.pem" }]"#,
        );
        // The BH key path is relative to the tenant file's directory.
        let err = t.unwrap_err().with_causes();
        assert!(err.contains("sources.bh.public_keys[0]"), "{err}");
        let pem =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/demo/bh-public.pem")).unwrap();
        let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let t = parse(&format!(
            r#"id = "demo"
            demo = true
            [sources.bh]
            kind = "bh"
            public_keys = [{{ der = "{der}" }}, {{ pem = """{pem}""" }}]
            [sources.webhooks]
            kind = "standard-webhooks"
            secrets = [{{ demo = "whsec_ZGVtby1zdGFuZGFyZC13ZWJob29rcy1zZWNyZXQ=" }}]"#
        ))
        .unwrap();
        let Some(bh) = t
            .source("bh")
            .unwrap()
            .settings
            .downcast::<hookgate_providers::bh::Settings>()
        else {
            panic!()
        };
        assert_eq!(bh.public_keys.len(), 2);
        let Some(w) = t
            .source("webhooks")
            .unwrap()
            .settings
            .downcast::<hookgate_providers::standard_webhooks::Settings>()
        else {
            panic!()
        };
        assert_eq!(w.keys[0].expose(), b"demo-standard-webhooks-secret");
        let err = parse("id = \"a\"\n[sources.b]\nkind = \"bh\"\npublic_keys = [{ der = \"bm9wZQ==\" }]\n")
            .unwrap_err()
            .with_causes();
        assert!(err.contains("sources.b.public_keys[0]"), "{err}");
    }

    #[test]
    fn a_proxy_header_without_proxies_is_warned_and_credential_params_redacted() {
        let source = |access: &str| {
            format!(
                "id = \"demo\"\ndemo = true\n[sources.bh]\nkind = \"bh\"\n[sources.bh.access]\n\
                 allow_ips = [\"10.0.0.0/8\"]\n{access}"
            )
        };
        let open = parse(&source(
            "trusted_proxy_header = \"x-forwarded-for\"\nredact_query = [\"Shop\"]\n",
        ))
        .unwrap();
        let tenants = Tenants::from_list(vec![open]).unwrap();
        let warnings = tenants.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("sources") || warnings[0].contains("source bh"),
            "{warnings:?}"
        );
        assert_eq!(
            tenants.redact_url("https://h/p?token=a&shop=b&page=2&x_signature=c"),
            "https://h/p?token=<redacted>&shop=<redacted>&page=2&x_signature=<redacted>"
        );
        let closed = parse(&source(
            "trusted_proxy_header = \"x-forwarded-for\"\ntrusted_proxies = [\"10.1.0.0/16\"]\n",
        ))
        .unwrap();
        assert!(Tenants::from_list(vec![closed]).unwrap().warnings().is_empty());
    }

    #[test]
    fn provider_apis_load_with_defaults_and_validate() {
        let t = parse(
            r#"id = "demo"
            demo = true
            [sources.bh]
            kind = "bh"
            [providers.bh]
            base_url = "https://api-test.velafi.com/"
            api_key = { demo = "k" }
            api_secret = { demo = "s" }
            paths = { create = "/v2/webhook" }
            [providers.keeta]
            base_url = "https://open.mykeeta.com"
            events = [1001, 1002]"#,
        )
        .unwrap();
        // A bh source may start without keys: registration supplies them.
        let Some(b) = t
            .source("bh")
            .unwrap()
            .settings
            .downcast::<hookgate_providers::bh::Settings>()
        else {
            panic!()
        };
        assert!(b.public_keys.is_empty());
        let bh = t.providers.bh.as_ref().unwrap();
        assert_eq!(bh.base_url, "https://api-test.velafi.com");
        assert_eq!(bh.paths.create, "/v2/webhook");
        assert_eq!(bh.paths.token, "/v2/token/generate");
        assert_eq!(bh.paths.update, "/v2/webhook/{webhookId}");
        assert_eq!(bh.event_types, ["ORDER_WEBHOOK"]);
        assert_eq!(bh.token_renew_before, Duration::from_secs(60));
        assert!(!format!("{bh:?}").contains("\"k\""));
        let keeta = t.providers.keeta.as_ref().unwrap();
        assert_eq!(keeta.events, [1001, 1002]);
        let err = parse(
            r#"id = "a"
            [providers.bh]
            base_url = "https://x"
            api_key = { env = "HOOKGATE_TEST_SURELY_UNSET_VAR" }
            api_secret = { env = "HOOKGATE_TEST_SURELY_UNSET_VAR" }"#,
        )
        .unwrap_err()
        .with_causes();
        assert!(err.contains("providers.bh.api_key"), "{err}");
        let err = parse(
            r#"id = "a"
            demo = true
            [providers.bh]
            base_url = "https://x"
            api_key = { demo = "k" }
            api_secret = { demo = "s" }
            paths = { update = "/v2/webhook" }"#,
        )
        .unwrap_err()
        .with_causes();
        assert!(
            err.contains("providers.bh.paths.update") && err.contains("{webhookId}"),
            "{err}"
        );
        let err = parse("id = \"a\"\n[providers.keeta]\nbase_url = \"open.mykeeta.com\"\n")
            .unwrap_err()
            .with_causes();
        assert!(err.contains("providers.keeta.base_url"), "{err}");
        let err = parse("id = \"a\"\n[providers.pagsmile]\nbase_url = \"https://x\"\n")
            .unwrap_err()
            .with_causes();
        assert!(err.contains("pagsmile"), "{err}");
    }

    #[test]
    fn subscriptions_default_to_quorum_and_the_shared_dlx() {
        let t = parse(
            r##"id = "a"
            vhost = "tenant-a"
            [[subscriptions]]
            queue = "a.orders"
            bindings = ["keeta.order.#"]
            [[subscriptions]]
            queue = "a.audit"
            bindings = ["#"]
            type = "classic"
            dead_letter_exchange = "a.dlx""##,
        )
        .unwrap();
        assert_eq!(t.vhost.as_deref(), Some("tenant-a"));
        assert_eq!(t.subscriptions[0].queue_type, QueueType::Quorum);
        assert_eq!(t.subscriptions[0].dead_letter_exchange, "hookgate.dlx");
        assert_eq!(t.subscriptions[1].queue_type, QueueType::Classic);
        let err = parse("id = \"a\"\n[[subscriptions]]\nqueue = \"q\"\nbindings = []\n")
            .unwrap_err()
            .with_causes();
        assert!(err.contains("subscriptions[0].bindings"), "{err}");
        let err = parse("id = \"a\"\n[[subscriptions]]\nqueue = \"q\"\nbindings = [\"#\"]\ntype = \"stream\"\n")
            .unwrap_err()
            .with_causes();
        assert!(err.contains("stream"), "{err}");
    }
}
