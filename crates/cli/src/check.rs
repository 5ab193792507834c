//! `hookgate config check`: validates the configuration and prints the
//! routing plan, touching nothing.

use hookgate_config::Settings;
use std::fmt::Write;

/// `hookgate config` commands.
#[derive(Debug, Clone, Copy, clap::Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print the routing plan.
    Check {
        /// Also read, from the database, which recipe each source's
        /// deliveries have proven (otherwise nothing is touched).
        #[arg(long)]
        proven: bool,
    },
}

/// Runs a `config` command.
pub async fn run(config: &std::path::Path, command: ConfigCommand) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Check { proven } => {
            let settings = crate::settings::load_with_tenants(config)?;
            let mut text = plan(&settings);
            if proven {
                text.push_str(&proven_recipes(&settings).await?);
            }
            crate::out!("{text}");
        }
    }
    Ok(())
}

/// Each source's recipe state as the database knows it.
async fn proven_recipes(settings: &Settings) -> anyhow::Result<String> {
    use anyhow::Context as _;
    let db = &settings.service.database;
    let store = hookgate_store::Store::connect(&db.url, &hookgate_store::PoolConfig::default(), false)
        .await
        .context("database.url")?;
    let proven = store.proven_recipes(None).await?;
    let mut out = String::from("\nrecipes proven by deliveries (database):\n");
    for tenant in settings.tenants.iter() {
        for source in tenant.sources.values() {
            let mine: Vec<_> = (proven.iter())
                .filter(|p| p.tenant == tenant.id.as_str() && p.source == source.id.as_str())
                .collect();
            let state = match source.settings.recipe_state(!mine.is_empty()) {
                "never_matched" => "never matched (onboarding: refusals are kept whole for re-admission)",
                state => state,
            };
            let _ = writeln!(out, "  {}/{}: {state}", tenant.id, source.id);
            for p in mine {
                let _ = writeln!(out, "    {} since {}", p.recipe, p.first_verified_at.to_rfc3339());
            }
        }
    }
    store.close().await;
    Ok(out)
}

/// The plan as text.
pub fn plan(settings: &Settings) -> String {
    let svc = &settings.service;
    let mut out = String::new();
    let _ = writeln!(out, "configuration OK: {} tenant(s)", settings.tenants.len());
    for warning in settings.tenants.warnings() {
        let _ = writeln!(out, "warning: {warning}");
    }
    let _ = writeln!(
        out,
        "listen {}  public {}  admin {}",
        svc.http.listen, svc.http.public_base_url, svc.admin.listen
    );
    let _ = writeln!(
        out,
        "unroutable events → exchange {} (fanout) → queue {}",
        svc.rabbitmq.unrouted_exchange, svc.rabbitmq.unrouted_queue
    );
    for tenant in settings.tenants.iter() {
        let demo = if tenant.demo {
            " (demo: literal secrets allowed)"
        } else {
            ""
        };
        let _ = writeln!(out, "\ntenant {}{}  [{}]", tenant.id, demo, tenant.file.display());
        let _ = writeln!(
            out,
            "  exchange {} (topic, durable, alternate-exchange {})",
            tenant.exchange, svc.rabbitmq.unrouted_exchange
        );
        if let Some(vhost) = &tenant.vhost {
            let _ = writeln!(out, "  vhost {vhost}");
        }
        if let Some(signer) = &tenant.signing {
            let ids: Vec<String> = signer
                .hmac_key_ids()
                .into_iter()
                .chain(signer.ed25519_keys().iter().map(|k| k.id()))
                .collect();
            let _ = writeln!(out, "  messages signed (webhook-signature) by {}", ids.join(", "));
        }
        for sub in &tenant.subscriptions {
            let _ = writeln!(
                out,
                "  queue {} ({}, durable, dead letters → {}) bound with {}",
                sub.queue,
                sub.queue_type.as_str(),
                sub.dead_letter_exchange,
                sub.bindings.join(", ")
            );
        }
        for source in tenant.sources.values() {
            let _ = writeln!(
                out,
                "  source {} kind={} POST {}/hooks/{}/{}  body≤{}B",
                source.id, source.kind, svc.http.public_base_url, tenant.id, source.id, source.body_limit_bytes
            );
            let _ = writeln!(
                out,
                "    verification={:?}{}",
                source.verification,
                access_summary(&source.access)
            );
            let _ = writeln!(out, "    {}", source.settings.summary());
            match source.settings.candidate_recipes() {
                Some(c) if c.len() == 1 => {
                    let _ = writeln!(out, "    recipe pinned: {}", c[0]);
                }
                Some(c) => {
                    let _ = writeln!(
                        out,
                        "    recipe unproven: {} candidates until a delivery verifies; `hookgate sources` shows which matched (then pin it)",
                        c.len()
                    );
                }
                None => {}
            }
            let _ = writeln!(out, "    events → routing keys {}.<type>", source.provider().family());
        }
        for line in hookgate_onboarding::api_summary(tenant) {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}

fn access_summary(a: &hookgate_config::Access) -> String {
    let mut parts = Vec::new();
    if !a.allow_ips.is_empty() {
        let nets: Vec<_> = a.allow_ips.iter().map(|c| c.to_string()).collect();
        parts.push(format!("allow_ips=[{}]", nets.join(", ")));
    }
    if let Some(h) = &a.trusted_proxy_header {
        parts.push(format!("client address from {h}"));
    }
    if let Some(b) = &a.basic_auth {
        parts.push(format!("basic_auth user={}", b.username));
    }
    if let Some(t) = &a.token {
        parts.push(format!("token in {}", t.header));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" access: {}", parts.join("; "))
    }
}
