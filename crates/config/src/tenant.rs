//! Tenants and their sources (`tenants.d/*.toml`, one file per tenant).

use crate::service::file_error;
use crate::{ConfigError, Secret, SecretRef, ServiceSettings};
use hookgate_core::{SourceId, SourceKind, TenantId};
use hookgate_signature::keeta::Recipe;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a source does when a signature does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Verification {
    /// Reject with 401 (default).
    #[default]
    Enforce,
    /// Accept, store flagged as unverified, count in a metric: for onboarding
    /// a provider whose exact recipe is not yet confirmed.
    Observe,
}

/// A Keeta general-webhooks source.
#[derive(Debug, Clone)]
pub struct KeetaSource {
    /// Expected `appId` of pushes (checked when set).
    pub app_id: Option<i64>,
    /// App secrets, newest first; several during a rotation.
    pub app_secrets: Vec<Secret>,
    /// The callback URL registered with Keeta (used in the signature pre-image).
    pub callback_url: String,
    /// Enforce or observe.
    pub verification: Verification,
    /// Candidate recipes to try, in order.
    pub recipes: Vec<Recipe>,
}

/// How a source authenticates requests, per kind.
#[derive(Debug, Clone)]
pub enum SourceAuth {
    /// Keeta general webhooks.
    Keeta(KeetaSource),
}

/// One source of a tenant.
#[derive(Debug, Clone)]
pub struct Source {
    /// URL segment.
    pub id: SourceId,
    /// Kind.
    pub kind: SourceKind,
    /// Body limit in bytes.
    pub body_limit_bytes: usize,
    /// Credentials and options of the kind.
    pub auth: SourceAuth,
}

/// One tenant.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// Tenant id (URL segment).
    pub id: TenantId,
    /// A demo tenant may carry literal secrets.
    pub demo: bool,
    /// Topic exchange its events are published to.
    pub exchange: String,
    /// Sources by id.
    pub sources: BTreeMap<SourceId, Source>,
    /// File it was loaded from (for messages).
    pub file: PathBuf,
}

impl Tenant {
    /// Looks up a source by its URL segment.
    pub fn source(&self, id: &str) -> Option<&Source> {
        SourceId::parse(id).ok().and_then(|id| self.sources.get(&id))
    }
}

/// All tenants, by id. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Tenants {
    by_id: Arc<HashMap<TenantId, Arc<Tenant>>>,
}

impl Tenants {
    /// Looks up a tenant by its URL segment.
    pub fn get(&self, id: &str) -> Option<&Arc<Tenant>> {
        TenantId::parse(id).ok().and_then(|id| self.by_id.get(&id))
    }

    /// Tenants sorted by id.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Tenant>> {
        let mut v: Vec<_> = self.by_id.values().collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v.into_iter()
    }

    /// Number of tenants.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when no tenant is configured.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Builds the set from tenants made in code; ids must be unique.
    pub fn from_list(list: Vec<Tenant>) -> Result<Tenants, ConfigError> {
        let mut by_id = HashMap::new();
        for t in list {
            if let Some(prev) = by_id.get(&t.id) {
                let prev: &Arc<Tenant> = prev;
                return Err(ConfigError::invalid(
                    &t.file,
                    "id",
                    format!("tenant {} is also defined in {}", t.id, prev.file.display()),
                ));
            }
            by_id.insert(t.id.clone(), Arc::new(t));
        }
        Ok(Tenants { by_id: Arc::new(by_id) })
    }

    /// Loads every `*.toml` of a directory (a missing directory means no tenants).
    pub fn load_dir(dir: &Path, service: &ServiceSettings) -> Result<Tenants, ConfigError> {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(ConfigError::File {
                    file: dir.display().to_string(),
                    message: e.to_string(),
                });
            }
        };
        files.sort();
        let tenants = files
            .iter()
            .map(|f| load_tenant_file(f, service))
            .collect::<Result<Vec<_>, _>>()?;
        Tenants::from_list(tenants)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantFile {
    id: String,
    #[serde(default)]
    demo: bool,
    exchange: Option<String>,
    #[serde(default)]
    sources: BTreeMap<String, SourceFile>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum SourceFile {
    Keeta {
        app_id: Option<i64>,
        app_secrets: Vec<SecretRef>,
        callback_url: Option<String>,
        #[serde(default)]
        verification: Verification,
        recipes: Option<Vec<String>>,
        body_limit_bytes: Option<usize>,
    },
}

fn load_tenant_file(path: &Path, service: &ServiceSettings) -> Result<Tenant, ConfigError> {
    let name = path.display().to_string();
    let raw: TenantFile = config::Config::builder()
        .add_source(config::File::from(path.to_path_buf()).format(config::FileFormat::Toml))
        .build()
        .and_then(|c| c.try_deserialize())
        .map_err(|e| file_error(&name, e))?;
    let base_dir = path.parent().unwrap_or(Path::new("."));
    build_tenant(raw, path, base_dir, service)
}

fn build_tenant(
    raw: TenantFile,
    file: &Path,
    base_dir: &Path,
    service: &ServiceSettings,
) -> Result<Tenant, ConfigError> {
    let id = TenantId::parse(&raw.id).map_err(|e| ConfigError::invalid(file, "id", e.to_string()))?;
    let exchange = raw
        .exchange
        .unwrap_or_else(|| format!("{}{}", service.rabbitmq.exchange_prefix, id));
    if exchange.is_empty() || exchange.starts_with("amq.") {
        return Err(ConfigError::invalid(
            file,
            "exchange",
            "must be non-empty and not start with amq.",
        ));
    }
    let mut sources = BTreeMap::new();
    for (sid, src) in raw.sources {
        let key = format!("sources.{sid}");
        let source_id = SourceId::parse(&sid).map_err(|e| ConfigError::invalid(file, &key, e.to_string()))?;
        let source = match src {
            SourceFile::Keeta {
                app_id,
                app_secrets,
                callback_url,
                verification,
                recipes,
                body_limit_bytes,
            } => {
                if app_secrets.is_empty() {
                    return Err(ConfigError::invalid(
                        file,
                        format!("{key}.app_secrets"),
                        "at least one secret is required",
                    ));
                }
                let secrets = app_secrets
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        s.resolve(raw.demo, base_dir)
                            .map_err(|m| ConfigError::invalid(file, format!("{key}.app_secrets[{i}]"), m))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let recipes = match recipes {
                    None => Recipe::ALL.to_vec(),
                    Some(names) if names.is_empty() => {
                        return Err(ConfigError::invalid(
                            file,
                            format!("{key}.recipes"),
                            "must not be empty",
                        ));
                    }
                    Some(names) => names
                        .iter()
                        .map(|n| {
                            Recipe::parse(n).ok_or_else(|| {
                                let known: Vec<_> = Recipe::ALL.iter().map(|r| r.name()).collect();
                                ConfigError::invalid(
                                    file,
                                    format!("{key}.recipes"),
                                    format!("unknown recipe {n:?}; known: {}", known.join(", ")),
                                )
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                };
                let callback_url = callback_url
                    .unwrap_or_else(|| format!("{}/hooks/{}/{}", service.http.public_base_url, id, source_id));
                Source {
                    id: source_id.clone(),
                    kind: SourceKind::Keeta,
                    body_limit_bytes: body_limit_bytes.unwrap_or(service.http.body_limit_bytes),
                    auth: SourceAuth::Keeta(KeetaSource {
                        app_id,
                        app_secrets: secrets,
                        callback_url,
                        verification,
                        recipes,
                    }),
                }
            }
        };
        sources.insert(source_id, source);
    }
    Ok(Tenant {
        id,
        demo: raw.demo,
        exchange,
        sources,
        file: file.to_path_buf(),
    })
}

/// Parses one tenant from TOML text (tests, `config check` of a single file).
pub fn tenant_from_toml(text: &str, file: &Path, service: &ServiceSettings) -> Result<Tenant, ConfigError> {
    let raw: TenantFile = config::Config::builder()
        .add_source(config::File::from_str(text, config::FileFormat::Toml))
        .build()
        .and_then(|c| c.try_deserialize())
        .map_err(|e| file_error(&file.display().to_string(), e))?;
    build_tenant(raw, file, file.parent().unwrap_or(Path::new(".")), service)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Tenant, ConfigError> {
        tenant_from_toml(
            text,
            Path::new("tenants.d/t.toml"),
            &ServiceSettings::defaults().unwrap(),
        )
    }

    #[test]
    fn demo_tenant_with_literal_secret_and_default_callback() {
        let t = parse(
            r#"id = "demo"
            demo = true
            [sources.keeta]
            kind = "keeta"
            app_id = 1000001
            app_secrets = [{ demo = "demo-keeta-secret" }]"#,
        )
        .unwrap();
        assert_eq!(t.exchange, "hookgate.demo");
        let src = t.source("keeta").unwrap();
        let SourceAuth::Keeta(k) = &src.auth;
        assert_eq!(k.callback_url, "http://127.0.0.1:8080/hooks/demo/keeta");
        assert_eq!(k.app_secrets[0].expose(), "demo-keeta-secret");
        assert_eq!(k.verification, Verification::Enforce);
        assert_eq!(k.recipes.len(), Recipe::ALL.len());
        assert!(
            !format!("{t:?}").contains("demo-keeta-secret"),
            "secret leaked into Debug"
        );
    }

    #[test]
    fn literal_secrets_outside_demo_tenants_are_refused() {
        let err = parse(
            r#"id = "acme"
            [sources.keeta]
            kind = "keeta"
            app_secrets = [{ demo = "x" }]"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("tenants.d/t.toml") && err.contains("sources.keeta.app_secrets[0]"),
            "{err}"
        );
    }

    #[test]
    fn missing_env_secret_names_file_key_and_variable() {
        let err = parse(
            r#"id = "acme"
            [sources.keeta]
            kind = "keeta"
            app_secrets = [{ env = "HOOKGATE_TEST_SURELY_UNSET_VAR" }]"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("sources.keeta.app_secrets[0]") && err.contains("HOOKGATE_TEST_SURELY_UNSET_VAR"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_and_kinds_are_errors() {
        let err = parse("id = \"a\"\ncolour = \"red\"\n").unwrap_err().to_string();
        assert!(err.contains("tenants.d/t.toml") && err.contains("colour"), "{err}");
        let err = parse(
            r#"id = "a"
            [sources.k]
            kind = "keeta"
            app_secret = [{ env = "X" }]"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("app_secret"), "{err}");
        let err = parse("id = \"a\"\n[sources.k]\nkind = \"nope\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn recipes_are_validated() {
        let err = parse(
            r#"id = "a"
            demo = true
            [sources.k]
            kind = "keeta"
            app_secrets = [{ demo = "s" }]
            recipes = ["sha1"]"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("sources.k.recipes") && err.contains("callback_url?params+secret"),
            "{err}"
        );
    }
}
