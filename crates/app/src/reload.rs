//! Hot reload of the tenant files: `SIGHUP`, the file watch
//! (`tenants.watch`) and `POST /v1/config/reload` all come here.
//!
//! The directory is read again and validated as a whole (every file, the
//! checks `serve` makes at start); only then is the set swapped in, at once
//! for every part of the process (they share one [`LiveTenants`]). A request
//! in flight keeps the snapshot it started with. In a process that
//! publishes, the broker topology of new or changed tenants (their vhost,
//! exchange and subscription queues) is declared before the swap, and a
//! vhost or exchange the broker refuses refuses the reload; every open
//! connection declares it again right after. An
//! invalid change keeps the running set and is reported: the log, the
//! `hookgate_config_reloads_total{reason="invalid"}` counter, and the admin
//! API's reload status. A removed tenant answers 404 from the swap on.

use chrono::Utc;
use hookgate_admin::{Reload, ReloadStatus};
use hookgate_config::{LiveTenants, ServiceSettings, Tenants};
use hookgate_dispatcher::Publisher;
use hookgate_telemetry::Metrics;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

/// The checks a tenant set must pass before it runs (at start and on reload).
pub(crate) fn check(tenants: &Tenants, service: &ServiceSettings) -> Result<(), String> {
    // A body a memory budget can never hold would be refused forever.
    let http = &service.http;
    // (key, bytes, whether 0 means "no cap")
    let budgets = [
        ("http.max_body_bytes_in_memory", http.max_body_bytes_in_memory, false),
        (
            "http.max_body_bytes_in_memory minus the small-body reserve",
            http.max_body_bytes_in_memory
                .saturating_sub(hookgate_ingress::small_reserve(
                    http.max_body_bytes_in_memory,
                    http.small_body_reserve_bytes,
                )),
            false,
        ),
        ("http.max_body_bytes_per_peer", http.max_body_bytes_per_peer, true),
        ("http.max_body_bytes_per_source", http.max_body_bytes_per_source, true),
    ];
    for tenant in tenants.iter() {
        for source in tenant.sources.values() {
            let over = (budgets.iter())
                .find(|(_, cap, zero_uncapped)| !(*zero_uncapped && *cap == 0) && source.body_limit_bytes > *cap)
                .map(|(key, cap, _)| (key, cap));
            if let Some((key, cap)) = over {
                return Err(format!(
                    "tenant {} source {}: body_limit_bytes {} exceeds {key} ({cap})",
                    tenant.id, source.id, source.body_limit_bytes
                ));
            }
        }
    }
    Ok(())
}

/// Reloads one process's tenants.
#[derive(Debug)]
pub(crate) struct Reloader {
    dir: PathBuf,
    service: ServiceSettings,
    live: LiveTenants,
    /// Present when this process publishes (declares topology on reload).
    publisher: Option<Arc<Publisher>>,
    metrics: Arc<Metrics>,
    /// Where a refused reload opens an incident (and an applied one resolves it).
    store: hookgate_store::Store,
    status: Mutex<ReloadStatus>,
    /// One reload at a time.
    running: tokio::sync::Mutex<()>,
}

impl Reloader {
    pub(crate) fn new(
        dir: PathBuf,
        service: ServiceSettings,
        live: LiveTenants,
        publisher: Option<Arc<Publisher>>,
        metrics: Arc<Metrics>,
        store: hookgate_store::Store,
    ) -> Reloader {
        let status = ReloadStatus {
            enabled: true,
            generation: 1,
            tenants: live.load().len(),
            ..ReloadStatus::default()
        };
        Reloader {
            dir,
            service,
            live,
            publisher,
            metrics,
            store,
            status: Mutex::new(status),
            running: tokio::sync::Mutex::new(()),
        }
    }

    fn status_now(&self) -> ReloadStatus {
        self.status.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reads, validates and swaps in the directory's tenants.
    pub(crate) async fn reload_now(&self) -> ReloadStatus {
        let _one = self.running.lock().await;
        let attempt = Utc::now();
        let loaded = Tenants::load_dir(&self.dir, &self.service)
            .map_err(|e| hookgate_core::Chain(&e).to_string())
            .and_then(|t| check(&t, &self.service).map(|()| t));
        let loaded = match loaded {
            Ok(t) => self.check_broker(&t).await.map(|()| t),
            Err(e) => Err(e),
        };
        match loaded {
            Ok(tenants) => {
                let count = tenants.len();
                let credentials = credential_changes(&self.live.load(), &tenants);
                // The status and the set change together, before anything
                // else is awaited: whoever sees the new tenants sees the
                // reload that brought them.
                let status = {
                    let mut s = self.status.lock().unwrap_or_else(|e| e.into_inner());
                    s.generation += 1;
                    s.tenants = count;
                    s.last_attempt_at = Some(attempt);
                    s.last_applied_at = Some(attempt);
                    s.last_error = None;
                    self.live.replace(tenants);
                    s.clone()
                };
                self.metrics.config_reload("applied");
                tracing::info!(tenants = count, dir = %self.dir.display(), "tenant configuration reloaded");
                self.incident(None).await;
                for c in credentials {
                    tracing::info!(tenant = %c.key.tenant, source = %c.key.source, credential = %c.key.cause,
                        change = c.key.kind.as_str(), "a source's credentials changed");
                    match self.store.raise_incident(&c, Utc::now()).await {
                        Ok(Some(t)) => self.metrics.incident_transition(t.kind.as_str(), t.state.as_str()),
                        Ok(None) => {}
                        Err(e) => {
                            tracing::warn!(error = %hookgate_core::Chain(&e), "could not record a credential change")
                        }
                    }
                }
                // New tenants' exchanges and queues were declared before the
                // swap (`check_broker`); this covers every open connection.
                if let Some(p) = &self.publisher {
                    if let Err(e) = p.redeclare().await {
                        tracing::warn!(error = %hookgate_core::Chain(&e), "declaring the reloaded topology failed; the dispatcher declares it when it reconnects");
                    }
                }
                status
            }
            Err(e) => {
                self.metrics.config_reload("invalid");
                tracing::error!(error = %e, dir = %self.dir.display(), "tenant configuration refused; the running one is kept");
                self.incident(Some(&e)).await;
                let mut s = self.status.lock().unwrap_or_else(|e| e.into_inner());
                s.last_attempt_at = Some(attempt);
                s.last_error = Some(e);
                s.clone()
            }
        }
    }

    /// A refused reload opens (or counts on) a `reload_refused` incident;
    /// the next applied one resolves it. The incident cannot be written
    /// (database down): logged, the reload's outcome stands.
    async fn incident(&self, refused: Option<&str>) {
        let key = hookgate_watch::Key {
            kind: hookgate_watch::Kind::ReloadRefused,
            tenant: String::new(),
            source: String::new(),
            cause: String::new(),
        };
        let now = Utc::now();
        let done = match refused {
            Some(e) => {
                let c = hookgate_watch::Condition {
                    key,
                    count: 1,
                    samples: Vec::new(),
                    summary: format!("a tenant configuration change was refused (the previous one serves): {e}"),
                };
                self.store.raise_incident(&c, now).await
            }
            None => self.store.clear_incident(&key, now).await,
        };
        match done {
            Ok(Some(t)) => self.metrics.incident_transition(t.kind.as_str(), t.state.as_str()),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %hookgate_core::Chain(&e), "could not record the reload's incident"),
        }
    }

    /// Before a swap, in a process that publishes: every vhost the new set
    /// brings, and every new or changed tenant's exchange and subscription
    /// queues, is connected to and declared on a connection of its own (so
    /// its queues exist before its first webhook is accepted). A tenant whose vhost does not exist (or
    /// whose exchange exists with another type) is refused with the running
    /// set kept, instead of being swapped in and holding its vhost's
    /// publishing back. While the broker is unreachable altogether nothing
    /// can be judged: the set is swapped in, and a vhost that then fails
    /// holds only its own tenants (see `Publisher::connect`).
    async fn check_broker(&self, new: &Tenants) -> Result<(), String> {
        let Some(publisher) = &self.publisher else {
            return Ok(());
        };
        if publisher.connected().await.is_err() {
            tracing::warn!("RabbitMQ unreachable: the reloaded tenants' vhosts are not checked before the swap");
            return Ok(());
        }
        let running = self.live.load();
        let mut by_vhost: std::collections::BTreeMap<String, Vec<Arc<hookgate_config::Tenant>>> = Default::default();
        for t in new.iter() {
            let old = running.get(t.id.as_str());
            let same = old
                .is_some_and(|o| o.vhost == t.vhost && o.exchange == t.exchange && o.subscriptions == t.subscriptions);
            if !same {
                by_vhost
                    .entry(t.vhost.clone().unwrap_or_default())
                    .or_default()
                    .push(t.clone());
            }
        }
        for (vhost, tenants) in by_vhost {
            publisher.probe_vhost(&vhost, &tenants).await?;
        }
        Ok(())
    }

    /// What the watch compares: every `*.toml` file's name, size and time.
    fn fingerprint(&self) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
        let mut v: Vec<_> = std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                    .map(|p| {
                        let meta = std::fs::metadata(&p).ok();
                        let len = meta.as_ref().map_or(0, std::fs::Metadata::len);
                        let modified = meta.and_then(|m| m.modified().ok());
                        (p, len, modified)
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Reloads whenever the directory's files change, until `shutdown`.
    pub(crate) async fn watch(self: Arc<Self>, every: Duration, shutdown: CancellationToken) {
        let mut seen = self.fingerprint();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            let now = self.fingerprint();
            if now != seen {
                seen = now;
                self.reload_now().await;
            }
        }
    }

    /// Reloads on every `SIGHUP` (`hup`), until `shutdown`.
    #[cfg(unix)]
    pub(crate) async fn on_sighup(self: Arc<Self>, mut hup: tokio::signal::unix::Signal, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                got = hup.recv() => {
                    if got.is_none() {
                        return;
                    }
                    tracing::info!("SIGHUP: reloading the tenant configuration");
                    self.reload_now().await;
                }
            }
        }
    }
}

impl Reload for Reloader {
    fn status(&self) -> ReloadStatus {
        self.status_now()
    }

    fn reload(&self) -> futures_util::future::BoxFuture<'_, ReloadStatus> {
        Box::pin(self.reload_now())
    }
}

/// The credentials a reload adds to or removes from each source, told
/// apart by value, as `key_added` / `key_removed` notices naming where each
/// comes from (never the value); a source or tenant that comes or goes
/// brings or takes all of its credentials.
fn credential_changes(old: &Tenants, new: &Tenants) -> Vec<hookgate_watch::Condition> {
    use hookgate_config::Credential;
    use hookgate_watch::{Condition, Key, Kind};
    // By (tenant, source): a reload of 10,000 tenants stays linear.
    let of = |ts: &Tenants| -> std::collections::BTreeMap<(String, String), Vec<Credential>> {
        ts.iter()
            .flat_map(|t| {
                t.sources
                    .values()
                    .map(|s| ((t.id.to_string(), s.id.to_string()), s.credentials.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let (before, after) = (of(old), of(new));
    let notice = |kind: Kind, t: &str, s: &str, c: &Credential| {
        let what = if kind == Kind::KeyAdded {
            "now accepts"
        } else {
            "no longer accepts"
        };
        Condition {
            key: Key {
                kind,
                tenant: t.to_owned(),
                source: s.to_owned(),
                cause: c.name.clone(),
            },
            count: 1,
            samples: Vec::new(),
            summary: format!("{t}/{s} {what} the credential {} (a tenant file reload)", c.name),
        }
    };
    let mut out = Vec::new();
    let none = Vec::new();
    for ((t, s), now) in &after {
        // By value: a key that only moved (a rotation puts the new one
        // first) or changed its reference is neither added nor removed.
        let was = before.get(&(t.clone(), s.clone())).unwrap_or(&none);
        for c in now.iter().filter(|c| !was.iter().any(|w| w.same_value(c))) {
            out.push(notice(Kind::KeyAdded, t, s, c));
        }
        for w in was.iter().filter(|w| !now.iter().any(|c| c.same_value(w))) {
            out.push(notice(Kind::KeyRemoved, t, s, w));
        }
    }
    for ((t, s), was) in &before {
        if !after.contains_key(&(t.clone(), s.clone())) {
            out.extend(was.iter().map(|w| notice(Kind::KeyRemoved, t, s, w)));
        }
    }
    out
}
