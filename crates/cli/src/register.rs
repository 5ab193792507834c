//! `hookgate register`: the command-line shell of `hookgate-onboarding`
//! (its arguments, and what it prints). BH: a webhook listener per event
//! type, its key kept for verification. Keeta: the callback URL of each
//! event id. `--dry-run` prints the requests, secrets redacted, and changes
//! nothing.

use hookgate_onboarding::{bh, keeta};

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
    /// Register a callback URL that is not https, or names a loopback host.
    #[arg(long)]
    pub allow_insecure_url: bool,
    /// Print the requests (secrets redacted) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl BhArgs {
    /// The registration these arguments ask for.
    pub fn registration(&self) -> bh::Registration {
        bh::Registration {
            tenant: self.tenant.clone(),
            source: self.source.clone(),
            event_types: self.event_types.clone(),
            mode: match (self.delete, self.disable) {
                (true, _) => bh::Mode::Delete,
                (false, true) => bh::Mode::Disable,
                (false, false) => bh::Mode::Activate,
            },
            allow_insecure_url: self.allow_insecure_url,
        }
    }
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
    /// Register a callback URL that is not https, or names a loopback host.
    #[arg(long)]
    pub allow_insecure_url: bool,
    /// Print the requests (secrets redacted) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl KeetaArgs {
    /// The registration these arguments ask for.
    pub fn registration(&self) -> keeta::Registration {
        keeta::Registration {
            tenant: self.tenant.clone(),
            source: self.source.clone(),
            events: self.events.clone(),
            test: self.test,
            allow_insecure_url: self.allow_insecure_url,
        }
    }
}

/// `hookgate register` commands.
#[derive(Debug, clap::Subcommand)]
pub enum RegisterCommand {
    /// Create or update BH webhook listeners for a source and store their keys.
    Bh(BhArgs),
    /// Set Keeta callback URLs (one call per event id) for a source.
    Keeta(KeetaArgs),
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

/// Runs a `register` command (its provider calls' debug lines go to the log).
pub async fn run(config: &std::path::Path, command: RegisterCommand) -> anyhow::Result<()> {
    let settings = crate::settings::load(config)?;
    let telemetry = hookgate_telemetry::init(&settings.service.telemetry)?;
    let result = run_with(&settings, command).await;
    telemetry.shutdown();
    result
}

async fn run_with(settings: &hookgate_config::Settings, command: RegisterCommand) -> anyhow::Result<()> {
    use hookgate_onboarding::{bh, keeta, open_store, plan_text};
    match command {
        RegisterCommand::Bh(args) if args.dry_run => {
            // Read what is stored when the database is there; never create or write.
            let db = &settings.service.database;
            let store =
                (hookgate_store::Store::connect(&db.url, &hookgate_store::PoolConfig::default(), false).await).ok();
            let plan = bh::plan(settings, store.as_ref(), &args.registration()).await?;
            crate::out!("{}", plan_text(&plan));
        }
        RegisterCommand::Bh(args) => {
            let store = open_store(settings).await?;
            for outcome in bh::register(settings, &store, &args.registration()).await? {
                crate::outln!("{outcome}");
            }
        }
        RegisterCommand::Keeta(args) if args.dry_run => {
            crate::out!("{}", plan_text(&keeta::plan(settings, &args.registration())?));
        }
        RegisterCommand::Keeta(args) => {
            let store = open_store(settings).await?;
            let done = keeta::register(settings, &store, &args.registration()).await?;
            let set = if done.is_test { "test-store" } else { "formal" };
            crate::outln!(
                "keeta: {set} callback URL {} set for events {:?}",
                done.url,
                done.events
            );
        }
        RegisterCommand::List { tenant } => {
            let store = open_store(settings).await?;
            let tenant = tenant.as_deref().map(hookgate_core::TenantId::parse).transpose()?;
            crate::out!("{}", hookgate_onboarding::list(&store, tenant.as_ref()).await?);
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
                crate::outln!(
                    "key {fingerprint} of {tenant}/{source} removed: running ingress processes stop accepting it now"
                );
            } else {
                anyhow::bail!("no accepted key {fingerprint} for {tenant}/{source} (see `hookgate register list`)");
            }
        }
    }
    Ok(())
}
