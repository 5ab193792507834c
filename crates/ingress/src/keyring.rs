//! Verification keys providers handed out at registration (`hookgate register
//! bh` stores them in PostgreSQL), cached for the verifiers.
//!
//! The cache is read on every push of a kind that uses it and reloaded when
//! older than [`REFRESH_EVERY`], so a removed key stops being accepted within
//! that time. When a signature matches no key, the cache is reloaded at once —
//! at most every [`MISS_RELOAD_MIN_INTERVAL`], so bad signatures cannot turn
//! into a query each — and the signature is checked again: a push signed with
//! a key registered a moment ago is accepted without waiting or restarting.

use hookgate_signature::bh::PublicKey;
use hookgate_store::Store;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Longest a cached key set is used without reloading, unless configured.
pub const DEFAULT_REFRESH_EVERY: Duration = Duration::from_secs(30);
/// Shortest time between two reloads caused by signatures that matched no key.
pub const MISS_RELOAD_MIN_INTERVAL: Duration = Duration::from_millis(200);

/// A key learned from a provider.
#[derive(Debug, Clone)]
pub(crate) struct RegisteredKey {
    /// Short hash naming it (recorded with the notification that it verified).
    pub fingerprint: String,
    /// The key.
    pub key: PublicKey,
}

type Keys = HashMap<(String, String), Arc<[RegisteredKey]>>;

#[derive(Debug, Default)]
struct Cache {
    keys: Arc<Keys>,
    loaded_at: Option<Instant>,
    attempted_at: Option<Instant>,
}

/// The cache of registered keys, per (tenant, source).
#[derive(Debug)]
pub(crate) struct KeyRing {
    cache: RwLock<Cache>,
    reload: tokio::sync::Mutex<()>,
    refresh_every: Duration,
}

impl KeyRing {
    /// An empty ring reloading every `refresh_every`.
    pub fn new(refresh_every: Duration) -> KeyRing {
        KeyRing {
            cache: RwLock::default(),
            reload: tokio::sync::Mutex::new(()),
            refresh_every,
        }
    }

    /// The keys of one source as cached now.
    pub fn keys(&self, tenant: &str, source: &str) -> Arc<[RegisteredKey]> {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        cache
            .keys
            .get(&(tenant.to_owned(), source.to_owned()))
            .cloned()
            .unwrap_or_else(|| Arc::from(Vec::new()))
    }

    /// Reloads when never loaded or older than the refresh period.
    pub async fn ensure_fresh(&self, store: &Store) {
        let stale = {
            let c = self.cache.read().unwrap_or_else(|e| e.into_inner());
            c.attempted_at.is_none_or(|t| t.elapsed() >= self.refresh_every)
        };
        if stale {
            self.reload_if(store, self.refresh_every).await;
        }
    }

    /// Reloads unless the last attempt is more recent than
    /// [`MISS_RELOAD_MIN_INTERVAL`]; true when the key set was reloaded.
    pub async fn reload_after_miss(&self, store: &Store) -> bool {
        self.reload_if(store, MISS_RELOAD_MIN_INTERVAL).await
    }

    async fn reload_if(&self, store: &Store, min_age: Duration) -> bool {
        let _one_at_a_time = self.reload.lock().await;
        {
            let c = self.cache.read().unwrap_or_else(|e| e.into_inner());
            if c.attempted_at.is_some_and(|t| t.elapsed() < min_age) {
                // Someone reloaded while this caller waited.
                return c.loaded_at.is_some_and(|t| t.elapsed() < min_age);
            }
        }
        let result = store.provider_keys(None, false).await;
        let mut c = self.cache.write().unwrap_or_else(|e| e.into_inner());
        c.attempted_at = Some(Instant::now());
        match result {
            Ok(rows) => {
                let mut keys: HashMap<(String, String), Vec<RegisteredKey>> = HashMap::new();
                for row in rows {
                    match PublicKey::parse(&row.public_key) {
                        Ok(key) => keys.entry((row.tenant, row.source)).or_default().push(RegisteredKey {
                            fingerprint: row.fingerprint,
                            key,
                        }),
                        Err(e) => tracing::warn!(tenant = %row.tenant, source = %row.source,
                            fingerprint = %row.fingerprint, error = %e, "stored provider key does not parse; skipped"),
                    }
                }
                c.keys = Arc::new(keys.into_iter().map(|(k, v)| (k, Arc::from(v))).collect());
                c.loaded_at = Some(Instant::now());
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not load registered provider keys; keeping the cached ones");
                false
            }
        }
    }
}
