//! `hookgate`: the gateway binary. It only parses arguments and hands each
//! command to its module in `hookgate-cli` (one module per command, each
//! with its `Args` and `run`).

use clap::{Parser, Subcommand};
use hookgate_cli::{bench, check, ops, register, serve, simulate, tail};
use std::path::PathBuf;

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
    Serve(serve::ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        command: check::ConfigCommand,
    },
    /// Send provider-signed webhooks to a running gateway.
    Simulate(simulate::SimulateArgs),
    /// Load-test a running gateway (closed or open loop), consuming its events.
    Bench(bench::BenchArgs),
    /// Register this deployment with the providers' management APIs.
    Register {
        #[command(subcommand)]
        command: register::RegisterCommand,
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
        #[command(flatten)]
        args: ops::TimelineArgs,
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
    /// Incidents: list, show, acknowledge, resolve, ignore (admin API).
    Incidents {
        #[command(flatten)]
        admin: ops::Admin,
        #[command(subcommand)]
        command: ops::IncidentsCommand,
    },
    /// Every configured source's health: quiet, refused, learning (admin API).
    Health {
        #[command(flatten)]
        admin: ops::Admin,
        /// Only this tenant's sources.
        #[arg(long)]
        tenant: Option<hookgate_core::TenantId>,
    },
    /// Every configured source with its signature recipe state: pinned,
    /// matched (by which recipe, since when) or never matched (admin API).
    Sources {
        #[command(flatten)]
        admin: ops::Admin,
        /// Only this tenant's sources.
        #[arg(long)]
        tenant: Option<hookgate_core::TenantId>,
    },
    /// The keys a tenant's published messages are signed with: ids, and the
    /// Ed25519 public keys consumers verify with (admin API).
    SigningKeys {
        #[command(flatten)]
        admin: ops::Admin,
        /// Tenant.
        #[arg(long)]
        tenant: String,
    },
    /// Apply retention now, or with --dry-run show what it would remove (admin API).
    Retention {
        #[command(flatten)]
        admin: ops::Admin,
        #[command(flatten)]
        args: ops::RetentionArgs,
    },
    /// Erase stored payloads of a subject or a time range (admin API).
    Erase {
        #[command(flatten)]
        admin: ops::Admin,
        #[command(flatten)]
        args: ops::EraseArgs,
    },
    /// Print a tenant's events from RabbitMQ as they arrive.
    Tail(tail::TailArgs),
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

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config.as_path();
    match cli.command {
        Command::Serve(args) => serve::run(config, args).await,
        Command::Migrate => serve::migrate(config).await,
        Command::Config { command } => check::run(config, command).await,
        Command::Simulate(args) => simulate::run_command(config, &args).await,
        Command::Bench(args) => bench::run_command(config, &args).await,
        Command::Register { command } => register::run(config, command).await,
        Command::Notifications { admin, command } => ops::notifications(&admin, command).await,
        Command::Sources { admin, tenant } => ops::sources(&admin, tenant).await,
        Command::Timeline { admin, args } => ops::timeline(&admin, &args).await,
        Command::Replay { admin, args } => ops::replay(&admin, args).await,
        Command::Jobs { admin, args } => ops::jobs(&admin, args).await,
        Command::Parked { admin, command } => ops::parked(&admin, command).await,
        Command::Rejections { admin, command } => ops::rejections(&admin, command).await,
        Command::Incidents { admin, command } => ops::incidents(&admin, command).await,
        Command::Health { admin, tenant } => ops::health(&admin, tenant).await,
        Command::SigningKeys { admin, tenant } => ops::signing_keys(&admin, &tenant).await,
        Command::Retention { admin, args } => ops::retention(&admin, args.dry_run).await,
        Command::Erase { admin, args } => ops::erase(&admin, args).await,
        Command::Tail(args) => tail::run_command(config, &args).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
