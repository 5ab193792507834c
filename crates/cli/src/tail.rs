//! `hookgate tail`: a temporary queue on a tenant's exchange, printing each
//! event as it arrives.

use anyhow::Context;
use hookgate_config::Settings;
use hookgate_dispatcher::Subscription;

/// `hookgate tail` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct TailArgs {
    /// Tenant.
    #[arg(long, default_value = "demo")]
    pub tenant: String,
    /// Binding key(s), e.g. 'keeta.order.*' (default '#': everything).
    #[arg(long)]
    pub binding: Vec<String>,
    /// Pretty-print the JSON.
    #[arg(long)]
    pub pretty: bool,
    /// Stop after this many events.
    #[arg(long)]
    pub limit: Option<u64>,
}

/// `hookgate tail`.
pub async fn run_command(config: &std::path::Path, args: &TailArgs) -> anyhow::Result<()> {
    let settings = crate::settings::load(config)?;
    run(&settings, &args.tenant, &args.binding, args.pretty, args.limit).await
}

/// Prints events of `tenant` matching `bindings` until interrupted or `limit` reached.
pub async fn run(
    settings: &Settings,
    tenant: &str,
    bindings: &[String],
    pretty: bool,
    limit: Option<u64>,
) -> anyhow::Result<()> {
    let tenant = settings
        .tenants
        .get(tenant)
        .with_context(|| format!("tenant {tenant:?} is not configured"))?;
    let rabbit = &settings.service.rabbitmq;
    let bindings = if bindings.is_empty() {
        vec!["#".to_owned()]
    } else {
        bindings.to_vec()
    };
    let url = hookgate_dispatcher::amqp::vhost_url(rabbit.first_node(), tenant.vhost.as_deref());
    let mut sub = Subscription::open(&url, &tenant.exchange, &rabbit.unrouted_exchange, &bindings)
        .await
        .with_context(|| format!("subscribing to {}", tenant.exchange))?;
    eprintln!(
        "tailing exchange {} (bindings: {}), queue {}; Ctrl-C to stop",
        tenant.exchange,
        bindings.join(", "),
        sub.queue
    );
    let mut seen = 0u64;
    while let Some(msg) = sub.next().await {
        let msg = msg?;
        let body: serde_json::Value =
            serde_json::from_slice(&msg.body).unwrap_or_else(|_| String::from_utf8_lossy(&msg.body).into());
        let text = if pretty {
            serde_json::to_string_pretty(&body)?
        } else {
            body.to_string()
        };
        crate::outln!("{} {}", msg.routing_key, text);
        seen += 1;
        if limit.is_some_and(|l| seen >= l) {
            break;
        }
    }
    Ok(())
}
