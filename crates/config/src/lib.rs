//! Settings and tenants: layered loading through the `config` crate (built-in
//! defaults → `config/hookgate.toml` → `HOOKGATE__SECTION__KEY` environment),
//! one file per tenant in `config/tenants.d/`, validation, and secret
//! references resolved once at load.
//!
//! Architecture invariant: this is the only crate that reads the environment.
//! Unknown keys are errors, and every error names the file and key.

mod secret;
mod service;
mod tenant;
mod watch;

pub use hookgate_core::{Secret, SecretBytes, SecretRef};
pub(crate) use secret::Resolve;
pub use service::{
    AdminScope, AdminSettings, AdminToken, DatabaseSettings, DispatcherSettings, HttpSettings, LogFormat,
    RabbitSettings, RedisSettings, RetentionSettings, ServiceSettings, SpoolSettings, TelemetrySettings, WatchSettings,
};
pub use tenant::{
    normalize_host, tenant_from_toml, Access, BasicAuth, BhApi, BhPaths, Credential, HeaderToken, KeetaApi,
    LiveTenants, Providers, QueueType, Source, StalePolicy, Subscription, Tenant, TenantNotify, Tenants, Verification,
    DEFAULT_DLX, KEETA_GENERAL_EVENTS,
};
pub use watch::{parse_duration, ActiveHours, SourceWatch};

use std::path::{Path, PathBuf};

/// Everything `serve` needs: service settings and the tenants.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Service settings.
    pub service: ServiceSettings,
    /// Tenants and their sources.
    pub tenants: Tenants,
    /// The directory the tenants were read from (`None`: made in code);
    /// a reload reads it again.
    pub tenants_dir: Option<PathBuf>,
}

/// A configuration error; the message names the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read or parsed, or a key is unknown or mistyped.
    #[error("{file}: {message}")]
    File {
        /// The file (or "environment").
        file: String,
        /// What is wrong, with the key.
        message: String,
    },
    /// A file or directory could not be read or parsed; the reader's or
    /// parser's error is the source.
    #[error("{file}: cannot be read")]
    Read {
        /// The file (or "environment").
        file: String,
        /// Why, as the reader or parser said.
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A value is syntactically fine but not acceptable.
    #[error("{file}: {key}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// The offending key, dotted.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(file: &Path, key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            file: file.display().to_string(),
            key: key.into(),
            message: message.into(),
        }
    }
}

impl Settings {
    /// Loads service settings and tenants from a configuration directory
    /// (`hookgate.toml` and `tenants.d/` inside it; both optional).
    pub fn load(config_dir: &Path) -> Result<Settings, ConfigError> {
        if !config_dir.is_dir() {
            return Err(ConfigError::File {
                file: config_dir.display().to_string(),
                message: "no such configuration directory".to_owned(),
            });
        }
        let service = ServiceSettings::load(config_dir)?;
        let tenants_dir = resolve(config_dir, &service.tenants_dir);
        let tenants = Tenants::load_dir(&tenants_dir, &service)?;
        Ok(Settings {
            service,
            tenants,
            tenants_dir: Some(tenants_dir),
        })
    }

    /// Built-in defaults and the given tenants, no files or environment: for
    /// tests and embedding.
    pub fn with_tenants(service: ServiceSettings, tenants: Vec<Tenant>) -> Result<Settings, ConfigError> {
        Ok(Settings {
            tenants: Tenants::from_list(tenants)?,
            service,
            tenants_dir: None,
        })
    }
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}
