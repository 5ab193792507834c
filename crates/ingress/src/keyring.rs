//! Verification keys providers handed out at registration (`hookgate register
//! bh` stores them in PostgreSQL), cached for the verifiers.
//!
//! The cache is reloaded when a change is announced (a trigger on
//! `provider_keys` NOTIFYs; every ingress process LISTENs), so a removed key
//! stops verifying at once, and in any case when older than its refresh period
//! (`http.registered_keys_refresh_ms`), which bounds the delay should a
//! notification be lost while the listening connection is down.
//!
//! When a signature matches no cached key, the keys are reloaded and the
//! signature checked again, so a push signed with a key registered a moment
//! ago is accepted even before the notification arrives. Concurrent misses
//! share one reload (a refused request already costs a rejection insert; the
//! reload is one small query on top).

use hookgate_providers::RegisteredKey;
use hookgate_signature::rsa::PublicKey;
use hookgate_store::Store;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Longest a cached key set is used without reloading, unless configured.
pub const DEFAULT_REFRESH_EVERY: Duration = Duration::from_secs(30);

type Keys = HashMap<(String, String), Arc<[RegisteredKey]>>;

#[derive(Debug, Default)]
struct Cache {
    keys: Arc<Keys>,
    /// Last reload attempt, successful or not.
    attempted_at: Option<Instant>,
    /// Bumped by every successful reload.
    generation: u64,
}

/// The cache of registered keys, per (tenant, source).
#[derive(Debug)]
pub(crate) struct KeyRing {
    cache: RwLock<Cache>,
    reload: tokio::sync::Mutex<()>,
    refresh_every: Duration,
    /// Set by the listener when the keys changed; shared with it (the
    /// listener stops once it holds the only reference).
    changed: Arc<AtomicBool>,
}

impl KeyRing {
    /// An empty ring reloading every `refresh_every`, and at once after a
    /// change is announced on `store` (by the listener returned with it,
    /// which its owner runs).
    pub fn new(store: &Store, refresh_every: Duration) -> (KeyRing, KeyListener) {
        let changed = Arc::new(AtomicBool::new(false));
        let listener = KeyListener {
            store: store.clone(),
            changed: changed.clone(),
        };
        let ring = KeyRing {
            cache: RwLock::default(),
            reload: tokio::sync::Mutex::new(()),
            refresh_every,
            changed,
        };
        (ring, listener)
    }

    /// The same ring with another refresh period.
    pub fn with_refresh_every(mut self, every: Duration) -> KeyRing {
        self.refresh_every = every;
        self
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Cache> {
        self.cache.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The keys of one source as cached now.
    pub fn keys(&self, tenant: &str, source: &str) -> Arc<[RegisteredKey]> {
        self.read()
            .keys
            .get(&(tenant.to_owned(), source.to_owned()))
            .cloned()
            .unwrap_or_else(|| Arc::from(Vec::new()))
    }

    /// Reloads when a change was announced, or when never loaded or older
    /// than the refresh period.
    pub async fn ensure_fresh(&self, store: &Store) {
        // Cleared before the query: a change committed during it sets it again.
        let changed = self.changed.swap(false, Ordering::SeqCst);
        let stale = || {
            self.read()
                .attempted_at
                .is_none_or(|t| t.elapsed() >= self.refresh_every)
        };
        if !changed && !stale() {
            return;
        }
        let seen = self.read().generation;
        let _one_at_a_time = self.reload.lock().await;
        if self.read().generation != seen || (!changed && !stale()) {
            return; // reloaded by someone else meanwhile
        }
        self.load(store).await;
    }

    /// After a signature matched no cached key: reloads (sharing a reload
    /// that completed while this caller waited). True when the keys are
    /// newer than those the caller checked against.
    pub async fn reload_after_miss(&self, store: &Store) -> bool {
        let seen = self.read().generation;
        let _one_at_a_time = self.reload.lock().await;
        if self.read().generation != seen {
            return true;
        }
        self.load(store).await
    }

    async fn load(&self, store: &Store) -> bool {
        let result = store.provider_keys(None, false).await;
        let mut c = self.cache.write().unwrap_or_else(|e| e.into_inner());
        c.attempted_at = Some(Instant::now());
        match result {
            Ok(rows) => {
                let mut keys: HashMap<(String, String), Vec<RegisteredKey>> = HashMap::new();
                for row in rows {
                    match PublicKey::parse(&row.public_key) {
                        Ok(key) => {
                            keys.entry((row.tenant.into(), row.source.into()))
                                .or_default()
                                .push(RegisteredKey {
                                    fingerprint: row.fingerprint,
                                    key,
                                })
                        }
                        Err(e) => tracing::warn!(tenant = %row.tenant, source = %row.source,
                            fingerprint = %row.fingerprint, error = %e, "stored provider key does not parse; skipped"),
                    }
                }
                c.keys = Arc::new(keys.into_iter().map(|(k, v)| (k, Arc::from(v))).collect());
                c.generation += 1;
                true
            }
            Err(e) => {
                tracing::warn!(error = %hookgate_core::Chain(&e), "could not load registered provider keys; keeping the cached ones");
                false
            }
        }
    }
}

/// Marks its ring changed on every change of the keys announced by
/// PostgreSQL, and after any reconnect (notifications may have been missed
/// meanwhile).
#[derive(Debug)]
pub struct KeyListener {
    store: Store,
    changed: Arc<AtomicBool>,
}

impl KeyListener {
    /// Listens until `shutdown`, or until the ring is dropped.
    pub async fn run(self, shutdown: tokio_util::sync::CancellationToken) {
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = listen(self.store, self.changed) => {}
        }
    }
}

/// The listening loop; ends with the ring.
async fn listen(store: Store, changed: Arc<AtomicBool>) {
    const CHECK_EVERY: Duration = Duration::from_secs(5);
    let mut backoff = Duration::from_millis(200);
    while Arc::strong_count(&changed) > 1 {
        let mut listener = match store.listen_provider_keys().await {
            Ok(l) => l,
            Err(e) => {
                tracing::debug!(error = %hookgate_core::Chain(&e), "provider keys listener: cannot connect; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        backoff = Duration::from_millis(200);
        changed.store(true, Ordering::SeqCst);
        while Arc::strong_count(&changed) > 1 {
            match tokio::time::timeout(CHECK_EVERY, listener.wait()).await {
                Err(_elapsed) => {}
                Ok(Ok(())) => changed.store(true, Ordering::SeqCst),
                Ok(Err(e)) => {
                    tracing::debug!(error = %hookgate_core::Chain(&e), "provider keys listener lost; reconnecting");
                    changed.store(true, Ordering::SeqCst);
                    break;
                }
            }
        }
    }
}
