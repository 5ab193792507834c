//! Provider onboarding: points providers at this deployment through their
//! management APIs (`hookgate-provider-api`) and records what they return
//! (`provider_webhooks`, `provider_keys`). Each provider's registration has
//! one decision function; the real run executes its steps, `--dry-run`
//! prints them (secrets redacted) and changes nothing.
//!
//! Architecture invariant: the only crate that writes registrations; it
//! knows providers' management APIs, never their webhook formats (those are
//! `hookgate-providers`').

pub mod bh;
pub mod keeta;

use anyhow::Context;
use hookgate_config::{Settings, Source, Tenant};
use hookgate_provider_api::ApiRequest;
use hookgate_store::{PoolConfig, Store};
use std::fmt::{self, Write};
use std::sync::Arc;

/// One line of a dry run: a request that would be sent, or what would
/// happen without one.
#[derive(Debug, Clone)]
pub enum PlanItem {
    /// A request, redacted when printed.
    Request(ApiRequest),
    /// A decision that sends nothing (e.g. a listener that would be adopted).
    Note(String),
}

impl fmt::Display for PlanItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanItem::Request(r) => write!(f, "{r}"),
            PlanItem::Note(n) => write!(f, "({n})"),
        }
    }
}

/// A dry run's plan as text (every request redacted).
pub fn plan_text(plan: &[PlanItem]) -> String {
    let mut out = String::from("dry run: nothing is sent or stored; the requests would be:\n");
    for (i, item) in plan.iter().enumerate() {
        let _ = writeln!(out, "{}. {item}", i + 1);
    }
    out
}

/// One line per provider management API the tenant configures (for
/// `hookgate config check`; never a secret).
pub fn api_summary(tenant: &Tenant) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(bh) = &tenant.providers.bh {
        lines.push(format!(
            "provider api bh {} (create {}; event types {})",
            bh.base_url,
            bh.paths.create,
            bh.event_types.join(", ")
        ));
    }
    if let Some(k) = &tenant.providers.keeta {
        lines.push(format!(
            "provider api keeta {} ({} event ids)",
            k.base_url,
            k.events.len()
        ));
    }
    lines
}

/// The URL providers should call for a source: the callback URL the
/// source configures (part of its signature), otherwise
/// `<public_base_url>/hooks/<tenant>/<source>`.
pub fn source_url(settings: &Settings, tenant: &Tenant, source: &Source) -> String {
    match source.settings.callback_url() {
        Some(url) => url.to_owned(),
        None => format!(
            "{}/hooks/{}/{}",
            settings.service.http.public_base_url, tenant.id, source.id
        ),
    }
}

/// Refuses a callback URL providers cannot or should not push to: not
/// `https`, or a loopback / unspecified host (a provider on the internet
/// cannot reach it). `allow_insecure` (`--allow-insecure-url`) accepts it,
/// for local tests against fake provider APIs.
pub fn check_callback_url(url: &str, allow_insecure: bool) -> anyhow::Result<()> {
    if allow_insecure {
        return Ok(());
    }
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    if !scheme.eq_ignore_ascii_case("https") {
        anyhow::bail!(
            "callback URL {url} is not https: providers push over HTTPS (serve TLS or put a TLS proxy in front, \
             set http.public_base_url or the source's callback_url; --allow-insecure-url to register it anyway)"
        );
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = hookgate_config::normalize_host(authority);
    let local = host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
    if local {
        anyhow::bail!(
            "callback URL {url} names a loopback address providers cannot reach \
             (set http.public_base_url or the source's callback_url; --allow-insecure-url to register it anyway)"
        );
    }
    Ok(())
}

/// A configured tenant and source, or an error naming what is missing.
pub fn find<'a>(settings: &'a Settings, tenant: &str, source: &str) -> anyhow::Result<(&'a Arc<Tenant>, &'a Source)> {
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

/// `register list`: registrations and keys as a table.
pub async fn list(store: &Store, tenant: Option<&hookgate_core::TenantId>) -> anyhow::Result<String> {
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
                h.tenant.as_str(),
                h.source.as_str(),
                h.provider,
                h.event,
                if h.is_test { "yes" } else { "no" },
                h.remote_id.as_deref().unwrap_or("-"),
                h.status.map_or_else(|| "-".to_owned(), bh::status_name),
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
                k.tenant.as_str(),
                k.source.as_str(),
                k.fingerprint,
                k.remote_id.as_deref().unwrap_or("-"),
                k.added_at.format("%Y-%m-%d %H:%M:%S")
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::check_callback_url;

    #[test]
    fn only_public_https_callback_urls_register_without_the_flag() {
        assert!(check_callback_url("https://hooks.acme.example/hooks/acme/bh", false).is_ok());
        assert!(check_callback_url("https://203.0.113.7:8443/hooks/acme/bh", false).is_ok());
        for bad in [
            "http://hooks.acme.example/hooks/acme/bh",
            "https://127.0.0.1:8080/hooks/acme/bh",
            "https://localhost/hooks/acme/bh",
            "https://[::1]:8443/hooks/acme/bh",
            "https://0.0.0.0/x",
            "hooks.acme.example/x",
        ] {
            assert!(check_callback_url(bad, false).is_err(), "{bad}");
            assert!(check_callback_url(bad, true).is_ok(), "{bad}");
        }
    }
}
