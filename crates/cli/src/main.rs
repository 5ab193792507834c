//! `hookgate`: the gateway binary. Thin: parses arguments and calls the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use hookgate_app::{Gateway, Role};
use hookgate_cli::{check, ops, register, simulate, tail};
use hookgate_config::Settings;
use hookgate_store::{PoolConfig, Store};
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

/// mimalloc instead of the system allocator: malloc and free were about 15 %
/// of the gateway's CPU under load (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "hookgate",
    version,
    about = "Gateway for inbound provider webhooks with durable fan-out"
)]
struct Cli {
    /// Configuration directory (hookgate.toml and tenants.d/).
    #[arg(long, global = true, default_value = "config")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway (migrations first, unless disabled).
    Serve {
        /// Which parts to run in this process.
        #[arg(long, default_value = "all")]
        role: Role,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Send provider-signed webhooks to a running gateway.
    Simulate(simulate::SimulateArgs),
    /// Load-test a running gateway (closed or open loop), consuming its events.
    Bench(hookgate_cli::bench::BenchArgs),
    /// Register this deployment with the providers' management APIs.
    Register {
        #[command(subcommand)]
        command: RegisterCommand,
    },
    /// Search and show stored notifications (admin API).
    Notifications {
        #[command(flatten)]
        admin: ops::Admin,
        #[command(subcommand)]
        command: ops::NotificationsCommand,
    },
    /// Every notification and event of a subject in commit order (admin API).
    Timeline {
        #[command(flatten)]
        admin: ops::Admin,
        /// Tenant.
        #[arg(long)]
        tenant: String,
        /// Subject, e.g. order/553440887574627.
        subject: String,
    },
    /// Replay one notification, or plan and run a replay job over a filter (admin API).
    Replay {
        #[command(flatten)]
        admin: ops::Admin,
        #[command(flatten)]
        args: ops::ReplayArgs,
    },
    /// Replay jobs: list, show, cancel (admin API).
    Jobs {
        #[command(flatten)]
        admin: ops::Admin,
        #[command(flatten)]
        args: ops::JobsArgs,
    },
    /// Parked notifications: list, requeue (admin API).
    Parked {
        #[command(flatten)]
        admin: ops::Admin,
        #[command(subcommand)]
        command: ops::ParkedCommand,
    },
    /// Rejected requests: list, show, re-admit (admin API).
    Rejections {
        #[command(flatten)]
        admin: ops::Admin,
        #[command(subcommand)]
        command: ops::RejectionsCommand,
    },
    /// Apply retention now, or with --dry-run show what it would remove (admin API).
    Retention {
        #[command(flatten)]
        admin: ops::Admin,
        /// Show what would be removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Erase stored payloads of a subject or a time range (admin API).
    Erase {
        #[command(flatten)]
        admin: ops::Admin,
        #[command(flatten)]
        args: ops::EraseArgs,
    },
    /// Print a tenant's events from RabbitMQ as they arrive.
    Tail {
        #[arg(long, default_value = "demo")]
        tenant: String,
        /// Binding key(s), e.g. 'keeta.order.*' (default '#': everything).
        #[arg(long)]
        binding: Vec<String>,
        /// Pretty-print the JSON.
        #[arg(long)]
        pretty: bool,
        /// Stop after this many events.
        #[arg(long)]
        limit: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
enum RegisterCommand {
    /// Create or update BH webhook listeners for a source and store their keys.
    Bh(register::BhArgs),
    /// Set Keeta callback URLs (one call per event id) for a source.
    Keeta(register::KeetaArgs),
    /// Show what is registered where, and the keys providers returned.
    List {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Stop accepting a key a provider returned earlier (after a rotation).
    RemoveKey {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        source: String,
        /// The key's fingerprint, as `register list` shows it.
        #[arg(long)]
        fingerprint: String,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and print the routing plan.
    Check,
}

fn load(dir: &std::path::Path) -> anyhow::Result<Settings> {
    Settings::load(dir).with_context(|| format!("loading configuration from {}", dir.display()))
}

/// Runs the command; an error is printed as one line of causes (never a
/// backtrace, whatever `RUST_BACKTRACE` says) and exits with status 1.
fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Loads settings that must name at least one tenant (`serve`, `config check`).
fn load_with_tenants(dir: &std::path::Path) -> anyhow::Result<Settings> {
    let settings = load(dir)?;
    if settings.tenants.is_empty() {
        anyhow::bail!(
            "no tenants configured in {}: add one file per tenant (see config/tenants.d/demo.toml)",
            dir.join(&settings.service.tenants_dir).display()
        );
    }
    Ok(settings)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { role } => serve(load_with_tenants(&cli.config)?, role).await,
        Command::Notifications { admin, command } => ops::notifications(&admin, command).await,
        Command::Timeline { admin, tenant, subject } => ops::timeline(&admin, &tenant, &subject).await,
        Command::Replay { admin, args } => ops::replay(&admin, args).await,
        Command::Jobs { admin, args } => ops::jobs(&admin, args).await,
        Command::Parked { admin, command } => ops::parked(&admin, command).await,
        Command::Rejections { admin, command } => ops::rejections(&admin, command).await,
        Command::Retention { admin, dry_run } => ops::retention(&admin, dry_run).await,
        Command::Erase { admin, args } => ops::erase(&admin, args).await,
        Command::Migrate => {
            let settings = load(&cli.config)?;
            let db = &settings.service.database;
            let store = Store::connect(&db.url, &PoolConfig::default(), db.create_if_missing).await?;
            store.migrate().await?;
            println!("migrations applied to {}", hookgate_app::redact_url(&db.url));
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            print!("{}", check::plan(&load_with_tenants(&cli.config)?));
            Ok(())
        }
        Command::Simulate(args) => {
            let settings = load(&cli.config)?;
            let report = simulate::run(&settings, &args).await?;
            println!("{report}");
            if !report.as_expected(args.bad_signature) {
                let expected = if args.bad_signature { "401" } else { "2xx" };
                anyhow::bail!("not every request was answered {expected}");
            }
            Ok(())
        }
        Command::Bench(args) => {
            let report = hookgate_cli::bench::run(&load(&cli.config)?, &args).await?;
            if args.json || args.write_requests.is_some() {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", hookgate_cli::bench::table(&report));
            }
            Ok(())
        }
        Command::Register { command } => {
            let settings = load(&cli.config)?;
            // Warnings and the provider calls' debug lines go to the log.
            let telemetry = hookgate_telemetry::init(&settings.service.telemetry)?;
            let result = run_register(&settings, command).await;
            telemetry.shutdown();
            result
        }
        Command::Tail {
            tenant,
            binding,
            pretty,
            limit,
        } => tail::run(&load(&cli.config)?, &tenant, &binding, pretty, limit).await,
    }
}

async fn run_register(settings: &Settings, command: RegisterCommand) -> anyhow::Result<()> {
    use hookgate_onboarding::{bh, keeta, open_store, plan_text};
    match command {
        RegisterCommand::Bh(args) if args.dry_run => {
            // Read what is stored when the database is there; never create or write.
            let db = &settings.service.database;
            let store = Store::connect(&db.url, &PoolConfig::default(), false).await.ok();
            let plan = bh::plan(settings, store.as_ref(), &args.registration()).await?;
            print!("{}", plan_text(&plan));
        }
        RegisterCommand::Bh(args) => {
            let store = open_store(settings).await?;
            for outcome in bh::register(settings, &store, &args.registration()).await? {
                println!("{outcome}");
            }
        }
        RegisterCommand::Keeta(args) if args.dry_run => {
            print!("{}", plan_text(&keeta::plan(settings, &args.registration())?));
        }
        RegisterCommand::Keeta(args) => {
            let store = open_store(settings).await?;
            let done = keeta::register(settings, &store, &args.registration()).await?;
            let set = if done.is_test { "test-store" } else { "formal" };
            println!(
                "keeta: {set} callback URL {} set for events {:?}",
                done.url, done.events
            );
        }
        RegisterCommand::List { tenant } => {
            let store = open_store(settings).await?;
            let tenant = tenant.as_deref().map(hookgate_core::TenantId::parse).transpose()?;
            print!("{}", hookgate_onboarding::list(&store, tenant.as_ref()).await?);
        }
        RegisterCommand::RemoveKey {
            tenant,
            source,
            fingerprint,
        } => {
            let store = open_store(settings).await?;
            let (tenant, source) = (
                hookgate_core::TenantId::parse(&tenant)?,
                hookgate_core::SourceId::parse(&source)?,
            );
            if store.remove_provider_key(&tenant, &source, &fingerprint).await? {
                println!(
                    "key {fingerprint} of {tenant}/{source} removed: running ingress processes stop accepting it now"
                );
            } else {
                anyhow::bail!("no accepted key {fingerprint} for {tenant}/{source} (see `hookgate register list`)");
            }
        }
    }
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
