//! Keeta: sets the callback URL of each general-webhook event id (formal
//! or test store) and records each as it succeeds. [`steps`] is the one
//! decision both the run and the dry run use: the event ids, in order, each
//! one call.

use crate::{check_callback_url, find, PlanItem};
use anyhow::{bail, Context};
use hookgate_config::{Settings, Source, Tenant};
use hookgate_provider_api::keeta::Client;
use hookgate_store::{NewProviderWebhook, Store};

/// The provider name registrations are recorded under.
const PROVIDER: &str = "keeta";

/// A Keeta registration request.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Tenant id.
    pub tenant: String,
    /// A source of kind `keeta`.
    pub source: String,
    /// Event ids (empty: the tenant's `[providers.keeta] events`).
    pub events: Vec<i64>,
    /// Set the test-store callbacks (`isTest = 1`) instead of the formal ones.
    pub test: bool,
    /// Register a non-https or loopback callback URL anyway.
    pub allow_insecure_url: bool,
}

/// The result of a Keeta registration: the event ids set.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// URL registered.
    pub url: String,
    /// Event ids set.
    pub events: Vec<i64>,
    /// Test-store set.
    pub is_test: bool,
}

/// Where and what to register, checked against the configuration.
pub struct Target<'a> {
    tenant: &'a Tenant,
    source: &'a Source,
    url: String,
    client: Client,
    events: Vec<i64>,
}

impl std::fmt::Debug for Target<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("tenant", &self.tenant.id)
            .field("source", &self.source.id)
            .field("url", &self.url)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

/// The one decision of a Keeta registration: the checked target and the
/// event ids to set, in order.
pub fn steps<'a>(settings: &'a Settings, reg: &Registration) -> anyhow::Result<Target<'a>> {
    let (tenant, source) = find(settings, &reg.tenant, &reg.source)?;
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
    check_callback_url(&cfg.callback_url, reg.allow_insecure_url)?;
    if cfg.callback_url.contains('?') {
        tracing::warn!(url = %cfg.callback_url, "callback URL has a query string: Keeta's signature recipe for pushes is then ambiguous (PROVIDERS.md §1a)");
    }
    Ok(Target {
        url: cfg.callback_url.clone(),
        client: Client::new(api, app_id, secret)?,
        events: if reg.events.is_empty() {
            api.events.clone()
        } else {
            reg.events.clone()
        },
        tenant,
        source,
    })
}

/// Registers (not a dry run): one call per event id, each recorded as it
/// succeeds; stops at the first refusal.
pub async fn register(settings: &Settings, store: &Store, reg: &Registration) -> anyhow::Result<Outcome> {
    let t = steps(settings, reg)?;
    let mut done = Vec::new();
    for &event in &t.events {
        t.client
            .set_callback_url(event, &t.url, reg.test)
            .await
            .with_context(|| match done.is_empty() {
                true => format!("event {event}: nothing was registered"),
                false => format!("event {event}: registered before the failure: {done:?}"),
            })?;
        store
            .upsert_provider_webhook(&NewProviderWebhook {
                tenant: &t.tenant.id,
                source: &t.source.id,
                provider: PROVIDER,
                event: &event.to_string(),
                is_test: reg.test,
                remote_id: None,
                url: &t.url,
                status: None,
                public_key: None,
            })
            .await?;
        done.push(event);
    }
    Ok(Outcome {
        url: t.url,
        events: done,
        is_test: reg.test,
    })
}

/// The dry run: the requests [`register`] would send.
pub fn plan(settings: &Settings, reg: &Registration) -> anyhow::Result<Vec<PlanItem>> {
    let t = steps(settings, reg)?;
    let now = chrono::Utc::now().timestamp();
    Ok(t.events
        .iter()
        .map(|&e| PlanItem::Request(t.client.set_callback_url_request(e, &t.url, reg.test, now)))
        .collect())
}
