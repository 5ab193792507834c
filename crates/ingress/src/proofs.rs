//! Which sources have proven their signature recipe: a source none of whose
//! deliveries has verified yet is *onboarding*. Its refusals are kept whole
//! (within their own budget, see `rejections.rs`) so that they can be
//! re-admitted once the recipe or secret is fixed, and a refused signature
//! at a source with candidate recipes says `no_recipe_matched_yet`.
//!
//! The record is `source_recipes`, written the first time this process sees
//! a source verify with a recipe (never again for that recipe: the hot path
//! only reads a map). A refusal at a source not known proven asks the
//! database (at most once per source every few seconds), so that another
//! process's proof counts here too.

use hookgate_store::Store;
use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long "not proven" is believed before the database is asked again.
const UNPROVEN_FOR: Duration = Duration::from_secs(5);
/// A bound on each of the two database calls (a refusal or an acceptance is
/// not held longer by this bookkeeping).
const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// What this process knows of one source.
#[derive(Debug, Default)]
struct Known {
    /// Recipes recorded (by this process, or read as proven).
    recipes: HashSet<String>,
    /// A delivery of the source has verified (here or in another process).
    proven: bool,
    /// When the database last said "not proven".
    unproven_at: Option<Instant>,
    /// When asking the database last failed (not asked again for a while:
    /// an outage does not cost every refusal a timeout).
    failed_at: Option<Instant>,
}

/// The proofs of every source, shared by the workers.
#[derive(Debug, Default)]
pub(crate) struct Proofs {
    by_tenant: RwLock<HashMap<String, HashMap<String, Known>>>,
}

impl Proofs {
    /// True when this process already recorded `recipe` for the source.
    pub(crate) fn recorded(&self, tenant: &str, source: &str, recipe: &str) -> bool {
        let map = self.by_tenant.read().unwrap_or_else(|p| p.into_inner());
        map.get(tenant)
            .and_then(|s| s.get(source))
            .is_some_and(|k| k.recipes.contains(recipe))
    }

    fn update(&self, tenant: &str, source: &str, f: impl FnOnce(&mut Known)) {
        let mut map = self.by_tenant.write().unwrap_or_else(|p| p.into_inner());
        f(map
            .entry(tenant.to_owned())
            .or_default()
            .entry(source.to_owned())
            .or_default());
    }

    /// A delivery of the source verified with `recipe` and was stored as
    /// `notification_id`: recorded the first time (a failure is logged and
    /// tried again with the next delivery).
    pub(crate) async fn verified(&self, store: &Store, tenant: &str, source: &str, recipe: &str, notification_id: i64) {
        if self.recorded(tenant, source, recipe) {
            return;
        }
        let write = store.record_proven_recipe(tenant, source, recipe, notification_id);
        match tokio::time::timeout(CALL_TIMEOUT, write).await {
            Ok(Ok(())) => {
                tracing::info!(tenant, source, recipe, "a delivery proved the source's recipe");
                self.update(tenant, source, |k| {
                    k.recipes.insert(recipe.to_owned());
                    k.proven = true;
                });
            }
            Ok(Err(e)) => tracing::warn!(error = %hookgate_core::Chain(&e), "could not record the proven recipe"),
            Err(_) => tracing::warn!("recording the proven recipe timed out"),
        }
    }

    /// True when no delivery of the source has verified yet. `false` when
    /// that cannot be told (the database does not answer): the usual bounds
    /// then apply.
    pub(crate) async fn onboarding(&self, store: &Store, tenant: &str, source: &str) -> bool {
        {
            let map = self.by_tenant.read().unwrap_or_else(|p| p.into_inner());
            if let Some(k) = map.get(tenant).and_then(|s| s.get(source)) {
                if k.proven {
                    return false;
                }
                if k.unproven_at.is_some_and(|at| at.elapsed() < UNPROVEN_FOR) {
                    return true;
                }
                if k.failed_at.is_some_and(|at| at.elapsed() < UNPROVEN_FOR) {
                    return false;
                }
            }
        }
        match tokio::time::timeout(CALL_TIMEOUT, store.source_proven(tenant, source)).await {
            Ok(Ok(proven)) => {
                self.update(tenant, source, |k| {
                    k.proven |= proven;
                    k.unproven_at = (!proven).then(Instant::now);
                    k.failed_at = None;
                });
                !proven
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %hookgate_core::Chain(&e), "could not tell whether the source is onboarding");
                self.update(tenant, source, |k| k.failed_at = Some(Instant::now()));
                false
            }
            Err(_) => {
                self.update(tenant, source, |k| k.failed_at = Some(Instant::now()));
                false
            }
        }
    }
}
