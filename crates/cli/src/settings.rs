//! Loading the configuration directory for a command.

use anyhow::Context;
use hookgate_config::Settings;
use std::path::Path;

/// The settings of `dir` (`hookgate.toml`, `tenants.d/`, the environment).
pub fn load(dir: &Path) -> anyhow::Result<Settings> {
    Settings::load(dir).with_context(|| format!("loading configuration from {}", dir.display()))
}

/// Settings that must name at least one tenant (`serve`, `config check`).
pub fn load_with_tenants(dir: &Path) -> anyhow::Result<Settings> {
    let settings = load(dir)?;
    if settings.tenants.is_empty() {
        anyhow::bail!(
            "no tenants configured in {}: add one file per tenant (see config/tenants.d/demo.toml)",
            dir.join(&settings.service.tenants_dir).display()
        );
    }
    Ok(settings)
}
