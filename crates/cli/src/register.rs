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
