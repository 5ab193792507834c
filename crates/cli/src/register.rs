//! `hookgate register`: points the providers at this deployment and keeps
//! what they return. BH: creates or updates a webhook listener per event
//! type and stores its `webhookId`, status and `publicKey` (ingress then
//! accepts pushes signed with that key; a changed key is added, the old one
//! kept until `remove-key`). Keeta: sets the callback URL of each event id.
//! `--dry-run` prints the requests, secrets redacted, and changes nothing.

use anyhow::{bail, Context};
use hookgate_config::{Settings, Source, Tenant};
use hookgate_provider_api::bh::{self, Webhook, STATUS_ACTIVE, STATUS_DELETED, STATUS_DISABLED};
use hookgate_provider_api::{keeta, ApiError, ApiRequest};
use hookgate_providers::bh::signature::PublicKey;
use hookgate_store::{NewProviderWebhook, PoolConfig, ProviderWebhook, Store};
use std::fmt::{self, Write};
use std::sync::Arc;

/// `hookgate register bh` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct BhArgs {
    /// Tenant id.
    #[arg(long)]
    pub tenant: String,
    /// A source of kind `bh`.
    #[arg(long)]
    pub source: String,
    /// Event types to register (default: the tenant's `[providers.bh] event_types`).
    #[arg(long = "event-type")]
    pub event_types: Vec<String>,
    /// Register the listeners disabled (status 20) instead of active.
    #[arg(long, conflicts_with = "delete")]
    pub disable: bool,
    /// Delete the listeners at BH (cannot be undone; stored keys stay until removed).
    #[arg(long)]
    pub delete: bool,
    /// Print the requests (secrets redacted) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `hookgate register keeta` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct KeetaArgs {
    /// Tenant id.
    #[arg(long)]
    pub tenant: String,
    /// A source of kind `keeta`.
    #[arg(long)]
    pub source: String,
    /// Event ids (default: the tenant's `[providers.keeta] events`).
    #[arg(long = "event")]
    pub events: Vec<i64>,
    /// Set the test-store callbacks (`isTest = 1`) instead of the formal ones.
    #[arg(long)]
    pub test: bool,
    /// Print the requests (secrets redacted) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// What `register bh` did for one event type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BhAction {
    /// A new listener.
    Created,
    /// The stored listener was updated.
    Updated,
    /// A listener found at BH (same event type and URL) was taken over and updated.
    Adopted,
    /// The listener was deleted.
    Deleted,
}

/// A key BH returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOutcome {
    /// Fingerprint.
    pub fingerprint: String,
    /// True when the key was not accepted before.
    pub added: bool,
    /// Other keys still accepted for the source (a rotation keeps them).
    pub others: Vec<String>,
}

/// The result of `register bh` for one event type.
#[derive(Debug, Clone)]
pub struct BhOutcome {
    /// Event type.
    pub event_type: String,
    /// What was done.
    pub action: BhAction,
    /// The listener as BH returned it (`None` after a delete).
    pub webhook: Option<Webhook>,
    /// The key BH returned, if any.
    pub key: Option<KeyOutcome>,
}

/// The result of `register keeta`: the event ids set.
#[derive(Debug, Clone)]
pub struct KeetaOutcome {
    /// URL registered.
    pub url: String,
    /// Event ids set.
    pub events: Vec<i64>,
    /// Test-store set.
    pub is_test: bool,
}

/// The URL providers should call for a source: a Keeta source's registered
/// callback URL, otherwise `<public_base_url>/hooks/<tenant>/<source>`.
pub fn source_url(settings: &Settings, tenant: &Tenant, source: &Source) -> String {
    let keeta = source.settings.downcast::<hookgate_providers::keeta::Settings>();
    let keeta_auth = source.settings.downcast::<hookgate_providers::keeta_auth::Settings>();
    match (keeta, keeta_auth) {
        (Some(k), _) => k.callback_url.clone(),
        (_, Some(k)) => k.callback_url.clone(),
        _ => format!(
            "{}/hooks/{}/{}",
            settings.service.http.public_base_url, tenant.id, source.id
        ),
    }
}

fn find<'a>(settings: &'a Settings, tenant: &str, source: &str) -> anyhow::Result<(&'a Arc<Tenant>, &'a Source)> {
    let t = settings
        .tenants
        .get(tenant)
        .with_context(|| format!("no tenant {tenant:?} in the configuration"))?;
    let s = t
        .source(source)
        .with_context(|| format!("tenant {tenant} has no source {source:?} ({})", t.file.display()))?;
    Ok((t, s))
}

/// Opens the store for registration (creating and migrating it as `serve` would).
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let db = &settings.service.database;
    let store = Store::connect(&db.url, &PoolConfig::default(), db.create_if_missing)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {}", hookgate_app::redact_url(&db.url)))?;
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

struct BhTarget<'a> {
    tenant: &'a Tenant,
    source: &'a Source,
    url: String,
    client: bh::Client,
    event_types: Vec<String>,
}

fn bh_target<'a>(settings: &'a Settings, args: &BhArgs) -> anyhow::Result<BhTarget<'a>> {
    let (tenant, source) = find(settings, &args.tenant, &args.source)?;
    if source.kind != hookgate_providers::bh::KIND {
        bail!(
            "source {} of tenant {} is of kind {}, not bh",
            source.id,
            tenant.id,
            source.kind
        );
    }
    let api = tenant.providers.bh.as_ref().with_context(|| {
        format!(
            "tenant {} has no [providers.bh] section (base_url, api_key, api_secret) in {}",
            tenant.id,
            tenant.file.display()
        )
    })?;
    let event_types = if args.event_types.is_empty() {
        api.event_types.clone()
    } else {
        args.event_types.clone()
    };
    for et in &event_types {
        if !bh::EVENT_TYPES.contains(&et.as_str()) {
            tracing::warn!(event_type = %et, "event type not named in BH's docs; sending it anyway");
        }
    }
    Ok(BhTarget {
        url: source_url(settings, tenant, source),
        client: bh::Client::new(api)?,
        tenant,
        source,
        event_types,
    })
}

fn stored_bh<'a>(rows: &'a [ProviderWebhook], source: &str, event_type: &str) -> Option<&'a ProviderWebhook> {
    rows.iter()
        .find(|r| r.source == source && r.provider == "bh" && r.event == event_type && !r.is_test)
}

/// The `webhookId` of the listener recorded for this event type, unless deleted.
fn stored_listener_id(rows: &[ProviderWebhook], source: &str, event_type: &str) -> Option<String> {
    stored_bh(rows, source, event_type)
        .filter(|r| r.status != Some(STATUS_DELETED))
        .and_then(|r| r.remote_id.clone())
}

/// Runs `register bh` (not a dry run).
pub async fn bh(settings: &Settings, store: &Store, args: &BhArgs) -> anyhow::Result<Vec<BhOutcome>> {
    let t = bh_target(settings, args)?;
    let (tenant, source) = (t.tenant.id.as_str(), t.source.id.as_str());
    let stored = store.provider_webhooks(Some(tenant)).await?;
    let status = if args.disable { STATUS_DISABLED } else { STATUS_ACTIVE };
    let mut listed: Option<Vec<Webhook>> = None;
    let mut outcomes = Vec::new();
    for event_type in &t.event_types {
        let known = stored_listener_id(&stored, source, event_type);
        let known = match known {
            Some(id) => Some((id, BhAction::Updated)),
            None => {
                // Not in our records: maybe registered before (another database,
                // the dashboard). Take over a listener of this type at this URL.
                if listed.is_none() {
                    listed = Some(t.client.list(None).await?);
                }
                listed
                    .iter()
                    .flatten()
                    .find(|w| &w.event_type == event_type && w.url == t.url && w.status != STATUS_DELETED)
                    .map(|w| (w.webhook_id.clone(), BhAction::Adopted))
            }
        };
        if args.delete {
            let Some((id, _)) = known else {
                bail!("{event_type}: no BH listener of tenant {tenant} source {source} to delete");
            };
            t.client.delete(&id).await?;
            let url = stored_bh(&stored, source, event_type).map_or(t.url.as_str(), |r| r.url.as_str());
            store
                .upsert_provider_webhook(&NewProviderWebhook {
                    tenant,
                    source,
                    provider: "bh",
                    event: event_type,
                    is_test: false,
                    remote_id: Some(&id),
                    url,
                    status: Some(STATUS_DELETED),
                    public_key: None,
                })
                .await?;
            outcomes.push(BhOutcome {
                event_type: event_type.clone(),
                action: BhAction::Deleted,
                webhook: None,
                key: None,
            });
            continue;
        }
        let (webhook, action) = match known {
            Some((id, action)) => match t.client.update(&id, &t.url, status).await {
                Ok(w) => (w, action),
                // Refused: if BH no longer lists it (deleted in the dashboard),
                // the record is stale and a new listener replaces it.
                Err(refusal @ ApiError::Provider { .. }) => {
                    let gone = !t
                        .client
                        .list(None)
                        .await?
                        .iter()
                        .any(|w| w.webhook_id == id && w.status != STATUS_DELETED);
                    if !gone || args.disable {
                        return Err(refusal.into());
                    }
                    tracing::warn!(webhook_id = %id, "listener no longer exists at BH; creating a new one");
                    (t.client.create(event_type, &t.url).await?, BhAction::Created)
                }
                Err(e) => return Err(e.into()),
            },
            None if args.disable => {
                bail!("{event_type}: no BH listener of tenant {tenant} source {source} to disable")
            }
            None => (t.client.create(event_type, &t.url).await?, BhAction::Created),
        };
        // The listener first: it exists at BH now, whatever its key turns out to be.
        store
            .upsert_provider_webhook(&NewProviderWebhook {
                tenant,
                source,
                provider: "bh",
                event: event_type,
                is_test: false,
                remote_id: Some(&webhook.webhook_id),
                url: &webhook.url,
                status: Some(webhook.status),
                public_key: webhook.public_key.as_deref(),
            })
            .await?;
        let key = match webhook.public_key.as_deref().filter(|k| !k.trim().is_empty()) {
            Some(text) => {
                let parsed = PublicKey::parse(text).map_err(|e| {
                    anyhow::anyhow!("{event_type}: BH returned a publicKey that is not an RSA key: {e}")
                })?;
                let fingerprint = parsed.fingerprint();
                let added = store
                    .add_provider_key(tenant, source, &fingerprint, text.trim(), Some(&webhook.webhook_id))
                    .await?;
                let others = store
                    .provider_keys(Some(tenant), false)
                    .await?
                    .into_iter()
                    .filter(|k| k.source == source && k.fingerprint != fingerprint)
                    .map(|k| k.fingerprint)
                    .collect();
                Some(KeyOutcome {
                    fingerprint,
                    added,
                    others,
                })
            }
            None => None,
        };
        outcomes.push(BhOutcome {
            event_type: event_type.clone(),
            action,
            webhook: Some(webhook),
            key,
        });
    }
    Ok(outcomes)
}

/// The requests `register bh` would send, from what the store knows (when
/// reachable); sends nothing and writes nothing.
pub async fn bh_plan(settings: &Settings, store: Option<&Store>, args: &BhArgs) -> anyhow::Result<Vec<ApiRequest>> {
    let t = bh_target(settings, args)?;
    let stored = match store {
        Some(s) => s
            .provider_webhooks(Some(t.tenant.id.as_str()))
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let status = if args.disable { STATUS_DISABLED } else { STATUS_ACTIVE };
    let mut plan = vec![t.client.token_request(chrono::Utc::now().timestamp_millis())];
    let mut listed = false;
    for event_type in &t.event_types {
        let known = stored_listener_id(&stored, t.source.id.as_str(), event_type);
        match known {
            Some(id) if args.delete => plan.push(t.client.delete_request(&id)),
            Some(id) => plan.push(t.client.update_request(&id, &t.url, status)),
            None => {
                if !listed {
                    plan.push(t.client.list_request(None));
                    listed = true;
                }
                // Without a match in the list: create (or, for --disable/--delete, stop).
                if !args.delete && !args.disable {
                    plan.push(t.client.create_request(event_type, &t.url));
                }
            }
        }
    }
    Ok(plan)
}

struct KeetaTarget<'a> {
    tenant: &'a Tenant,
    source: &'a Source,
    url: String,
    client: keeta::Client,
    events: Vec<i64>,
}

fn keeta_target<'a>(settings: &'a Settings, args: &KeetaArgs) -> anyhow::Result<KeetaTarget<'a>> {
    let (tenant, source) = find(settings, &args.tenant, &args.source)?;
    let cfg = match source.settings.downcast::<hookgate_providers::keeta::Settings>() {
        Some(k) => k,
        None if source.kind == hookgate_providers::keeta_auth::KIND => bail!(
            "authorization webhooks (1301/1302) are configured in Keeta's Developer Portal \
             (\"Formal Store\" webhook section), not through the API; register a `keeta` source instead"
        ),
        _ => bail!(
            "source {} of tenant {} is of kind {}, not keeta",
            source.id,
            tenant.id,
            source.kind
        ),
    };
    let api = tenant.providers.keeta.as_ref().with_context(|| {
        format!(
            "tenant {} has no [providers.keeta] section (base_url) in {}",
            tenant.id,
            tenant.file.display()
        )
    })?;
    let app_id = cfg.app_id.with_context(|| {
        format!(
            "sources.{}.app_id is required to register callback URLs ({})",
            source.id,
            tenant.file.display()
        )
    })?;
    let secret = cfg
        .app_secrets
        .first()
        .cloned()
        .with_context(|| format!("sources.{}.app_secrets is empty", source.id))?;
    if cfg.callback_url.contains('?') {
        tracing::warn!(url = %cfg.callback_url, "callback URL has a query string: Keeta's signature recipe for pushes is then ambiguous (PROVIDERS.md §1a)");
    }
    Ok(KeetaTarget {
        url: cfg.callback_url.clone(),
        client: keeta::Client::new(api, app_id, secret)?,
        events: if args.events.is_empty() {
            api.events.clone()
        } else {
            args.events.clone()
        },
        tenant,
        source,
    })
}

/// Runs `register keeta` (not a dry run): one call per event id, each
/// recorded as it succeeds; stops at the first refusal.
pub async fn keeta(settings: &Settings, store: &Store, args: &KeetaArgs) -> anyhow::Result<KeetaOutcome> {
    let t = keeta_target(settings, args)?;
    let mut done = Vec::new();
    for &event in &t.events {
        t.client
            .set_callback_url(event, &t.url, args.test)
            .await
            .with_context(|| match done.is_empty() {
                true => format!("event {event}: nothing was registered"),
                false => format!("event {event}: registered before the failure: {done:?}"),
            })?;
        store
            .upsert_provider_webhook(&NewProviderWebhook {
                tenant: t.tenant.id.as_str(),
                source: t.source.id.as_str(),
                provider: "keeta",
                event: &event.to_string(),
                is_test: args.test,
                remote_id: None,
                url: &t.url,
                status: None,
                public_key: None,
            })
            .await?;
        done.push(event);
    }
    Ok(KeetaOutcome {
        url: t.url,
        events: done,
        is_test: args.test,
    })
}

/// The requests `register keeta` would send.
pub fn keeta_plan(settings: &Settings, args: &KeetaArgs) -> anyhow::Result<Vec<ApiRequest>> {
    let t = keeta_target(settings, args)?;
    let now = chrono::Utc::now().timestamp();
    Ok(t.events
        .iter()
        .map(|&e| t.client.set_callback_url_request(e, &t.url, args.test, now))
        .collect())
}

/// A dry run's plan as text (every request redacted).
pub fn plan_text(plan: &[ApiRequest]) -> String {
    let mut out = String::from("dry run: nothing is sent or stored; the requests would be:\n");
    for (i, r) in plan.iter().enumerate() {
        let _ = writeln!(out, "{}. {r}", i + 1);
    }
    out
}

impl fmt::Display for BhOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.action {
            BhAction::Created => "created",
            BhAction::Updated => "updated",
            BhAction::Adopted => "adopted and updated",
            BhAction::Deleted => "deleted",
        };
        match &self.webhook {
            Some(w) => write!(
                f,
                "{}: {verb} listener {} → {} (status {})",
                self.event_type,
                w.webhook_id,
                w.url,
                status_name(w.status)
            )?,
            None => write!(f, "{}: {verb} listener", self.event_type)?,
        }
        match &self.key {
            Some(k) if k.added => write!(
                f,
                "; public key {} added: pushes signed with it are accepted",
                k.fingerprint
            )?,
            Some(k) => write!(f, "; public key {} unchanged", k.fingerprint)?,
            None if self.action != BhAction::Deleted => write!(
                f,
                "; BH returned no publicKey: only keys in the configuration verify pushes"
            )?,
            None => {}
        }
        if let Some(k) = self.key.as_ref().filter(|k| k.added && !k.others.is_empty()) {
            write!(
                f,
                "\n  still accepted (rotation): {}; remove with `hookgate register remove-key --fingerprint <fp>` once BH signs with the new key",
                k.others.join(", ")
            )?;
        }
        Ok(())
    }
}

fn status_name(status: i32) -> String {
    match status {
        STATUS_ACTIVE => "10 active".into(),
        STATUS_DISABLED => "20 disabled".into(),
        STATUS_DELETED => "30 deleted".into(),
        other => other.to_string(),
    }
}

/// `register list`: registrations and keys as a table.
pub async fn list(store: &Store, tenant: Option<&str>) -> anyhow::Result<String> {
    let hooks = store.provider_webhooks(tenant).await?;
    let keys = store.provider_keys(tenant, true).await?;
    let mut out = String::new();
    if hooks.is_empty() {
        out.push_str("no registrations\n");
    } else {
        let _ = writeln!(
            out,
            "{:<12} {:<14} {:<6} {:<26} {:<5} {:<34} {:<12} {:<20} URL",
            "TENANT", "SOURCE", "PROV", "EVENT", "TEST", "REMOTE ID", "STATUS", "UPDATED"
        );
        for h in &hooks {
            let _ = writeln!(
                out,
                "{:<12} {:<14} {:<6} {:<26} {:<5} {:<34} {:<12} {:<20} {}",
                h.tenant,
                h.source,
                h.provider,
                h.event,
                if h.is_test { "yes" } else { "no" },
                h.remote_id.as_deref().unwrap_or("-"),
                h.status.map_or_else(|| "-".to_owned(), status_name),
                h.updated_at.format("%Y-%m-%d %H:%M:%S"),
                h.url
            );
        }
    }
    if !keys.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<12} {:<14} {:<17} {:<34} {:<20} STATE",
            "TENANT", "SOURCE", "KEY", "FROM", "ADDED"
        );
        for k in &keys {
            let state = match k.removed_at {
                Some(t) => format!("removed {}", t.format("%Y-%m-%d %H:%M:%S")),
                None => "accepted".to_owned(),
            };
            let _ = writeln!(
                out,
                "{:<12} {:<14} {:<17} {:<34} {:<20} {state}",
                k.tenant,
                k.source,
                k.fingerprint,
                k.remote_id.as_deref().unwrap_or("-"),
                k.added_at.format("%Y-%m-%d %H:%M:%S")
            );
        }
    }
    Ok(out)
}
