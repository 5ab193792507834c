//! `hookgate serve` (the gateway, built by `hookgate-app`, until SIGTERM or
//! Ctrl-C) and `hookgate migrate`.

use crate::settings::{load, load_with_tenants};
use anyhow::Context;
use hookgate_app::{Gateway, Role};
use hookgate_config::Settings;
use hookgate_store::{PoolConfig, Store};
use std::path::Path;
use tokio_util::sync::CancellationToken;

/// `hookgate serve` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Which parts to run in this process.
    #[arg(long, default_value = "all")]
    pub role: Role,
}

/// Runs the gateway of the configuration in `config` until a signal.
pub async fn run(config: &Path, args: ServeArgs) -> anyhow::Result<()> {
    serve(load_with_tenants(config)?, args.role).await
}

/// Applies the migrations and exits.
pub async fn migrate(config: &Path) -> anyhow::Result<()> {
    let settings = load(config)?;
    let db = &settings.service.database;
    let store = Store::connect(&db.url, &PoolConfig::default(), db.create_if_missing)
        .await
        .with_context(|| {
            format!(
                "connecting to PostgreSQL at {} (setting database.url)",
                hookgate_app::redact_url(&db.url)
            )
        })?;
    store.migrate().await?;
    crate::outln!("migrations applied to {}", hookgate_app::redact_url(&db.url));
    Ok(())
}

async fn serve(settings: Settings, role: Role) -> anyhow::Result<()> {
    let telemetry = hookgate_telemetry::init(&settings.service.telemetry)?;
    let shutdown = CancellationToken::new();
    let gateway = Gateway::build(&settings, role, Default::default(), shutdown.clone()).await?;
    let admin = gateway.admin_port();
    match gateway.port() {
        Some(port) => {
            tracing::info!(port, admin, listen = %settings.service.http.listen, tenants = settings.tenants.len(), ?role, "hookgate serving")
        }
        None => tracing::info!(admin, ?role, "hookgate dispatching"),
    }
    let signals = shutdown.clone();
    let deadline = std::time::Duration::from_secs(settings.service.http.shutdown_deadline_secs);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!(?deadline, "shutdown requested: draining");
        signals.cancel();
        // Past the deadline, leave anyway: claimed rows come back after their lease.
        tokio::time::sleep(deadline).await;
        tracing::error!("shutdown deadline passed; exiting with work in flight");
        // Non-zero: the supervisor learns that this stop was not clean.
        std::process::exit(1);
    });
    let result = gateway.run(shutdown).await;
    tracing::info!("stopped");
    telemetry.shutdown();
    result
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
