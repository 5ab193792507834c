//! Resolving secret references: environment variables and files.

use hookgate_core::{Secret, SecretRef};
use std::path::Path;

/// Resolution of a secret reference (the environment and files are read here only).
pub(crate) trait Resolve {
    /// Resolves the reference; `Err` says why, without the value.
    fn resolve(&self, allow_literal: bool, base_dir: &Path) -> Result<Secret, String>;
}

impl Resolve for SecretRef {
    fn resolve(&self, allow_literal: bool, base_dir: &Path) -> Result<Secret, String> {
        let value = match self {
            SecretRef::Env(var) => std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))?,
            SecretRef::File(path) => {
                let p = base_dir.join(path);
                std::fs::read_to_string(&p)
                    .map_err(|e| format!("cannot read secret file {}: {e}", p.display()))?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned()
            }
            SecretRef::Demo(literal) if allow_literal => literal.clone(),
            SecretRef::Demo(_) => {
                return Err("literal secrets are allowed only in a tenant marked `demo = true`; \
                            use { env = \"VAR\" } or { file = \"path\" }"
                    .into())
            }
        };
        if value.is_empty() {
            return Err("secret is empty".into());
        }
        Ok(Secret::new(value))
    }
}
