//! Event dedupe: Redis `SET NX` on (tenant, idempotency key), falling back to
//! the PostgreSQL unique key when Redis fails or is slow. Redis is an
//! optimisation, never the source of truth, and never blocks publishing.

use hookgate_config::RedisSettings;
use hookgate_store::{EventRecord, Reservation, Store};
use hookgate_telemetry::Metrics;
use redis::aio::ConnectionManager;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Whether to publish an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// First sighting, or a retry of the same event: publish.
    Publish,
    /// Another event already carried this key within the window: skip.
    Duplicate,
}

/// After a Redis failure, how long dedupe goes straight to PostgreSQL before
/// trying Redis again (so an outage costs no timeout per batch).
const RETRY_REDIS_AFTER: Duration = Duration::from_secs(3);

/// Where Redis is.
#[derive(Debug, Clone)]
enum Target {
    /// The server itself.
    Direct(redis::Client),
    /// The master of `master` as the Sentinels at `sentinels` name it.
    Sentinel { sentinels: Vec<String>, master: String },
}

/// Redis-backed dedupe with a PostgreSQL fallback.
#[derive(Debug)]
pub struct Dedupe {
    client: Option<Target>,
    settings: RedisSettings,
    conn: Mutex<Option<ConnectionManager>>,
    skip_until: std::sync::Mutex<Option<Instant>>,
    /// Connection failures, logged with back-off.
    failures: crate::backoff::LogBackoff,
}

impl Dedupe {
    /// Creates the dedupe; Redis is connected on first use (and again after it
    /// comes back), so the dispatcher starts while Redis is down.
    pub fn new(settings: RedisSettings) -> Dedupe {
        let client = if settings.sentinel_master.trim().is_empty() {
            match redis::Client::open(settings.url.as_str()) {
                Ok(c) => Some(Target::Direct(c)),
                Err(e) => {
                    tracing::error!(error = %hookgate_core::Chain(&e), "invalid redis.url; dedupe uses PostgreSQL only");
                    None
                }
            }
        } else {
            let sentinels: Vec<String> = (settings.url.split(','))
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect();
            Some(Target::Sentinel {
                sentinels,
                master: settings.sentinel_master.trim().to_owned(),
            })
        };
        Dedupe {
            client,
            settings,
            conn: Mutex::new(None),
            skip_until: std::sync::Mutex::new(None),
            failures: crate::backoff::LogBackoff::default(),
        }
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.settings.op_timeout_ms.max(1))
    }

    fn key(&self, e: &EventRecord) -> String {
        format!("{}:dedupe:{}:{}", self.settings.key_prefix, e.tenant, e.idempotency_key)
    }

    async fn connection(&self) -> Option<ConnectionManager> {
        let mut guard = self.conn.lock().await;
        if let Some(c) = guard.as_ref() {
            return Some(c.clone());
        }
        let client = match self.client.clone()? {
            Target::Direct(client) => client,
            // Asked each time a connection is made: after a failover, the
            // Sentinels name the new master.
            Target::Sentinel { sentinels, master } => {
                // Boxed: the relay loop's future stays shallow.
                let resolve = Box::pin(async {
                    let mut sentinel = redis::sentinel::SentinelClient::build(
                        sentinels.iter().map(String::as_str).collect(),
                        master,
                        None,
                        redis::sentinel::SentinelServerType::Master,
                    )?;
                    sentinel.async_get_client().await
                });
                match tokio::time::timeout(self.timeout() * 4, resolve).await {
                    Ok(Ok(client)) => client,
                    Ok(Err(e)) => {
                        if let Some(quiet) = self.failures.failed() {
                            tracing::warn!(error = %hookgate_core::Chain(&e), not_logged_since = quiet, "redis sentinels did not name a master (setting redis.url, redis.sentinel_master); dedupe falls back to PostgreSQL");
                        }
                        return None;
                    }
                    Err(_) => {
                        if let Some(quiet) = self.failures.failed() {
                            tracing::warn!(
                                not_logged_since = quiet,
                                "redis sentinels did not answer in time; dedupe falls back to PostgreSQL"
                            );
                        }
                        return None;
                    }
                }
            }
        };
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout()))
            .set_response_timeout(Some(self.timeout()))
            .set_number_of_retries(1);
        let failure =
            match tokio::time::timeout(self.timeout() * 4, ConnectionManager::new_with_config(client, config)).await {
                Ok(Ok(c)) => {
                    if self.failures.succeeded() {
                        tracing::info!("redis reachable again; dedupe uses it");
                    }
                    *guard = Some(c.clone());
                    return Some(c);
                }
                Ok(Err(e)) => hookgate_core::Chain(&e).to_string(),
                Err(_) => format!("no connection within {:?}", self.timeout() * 4),
            };
        // A wrong URL must be seen, and an outage must not write a line per batch.
        if let Some(quiet) = self.failures.failed() {
            tracing::warn!(error = %failure, not_logged_since = quiet, "redis unreachable (setting redis.url); dedupe falls back to PostgreSQL");
        }
        None
    }

    /// Round trip to Redis (readiness).
    pub async fn ping(&self) -> Result<(), String> {
        let mut conn = self.connection().await.ok_or_else(|| "cannot connect".to_owned())?;
        let pong: Result<String, _> = tokio::time::timeout(self.timeout(), redis::cmd("PING").query_async(&mut conn))
            .await
            .map_err(|_| "timed out".to_owned())?;
        pong.map(|_| ()).map_err(|e| e.to_string())
    }

    /// Decides for every event of a batch, in one Redis round trip
    /// (`SET key event_id NX GET PX ttl`, Redis ≥ 7.0): nil → new; our own
    /// id → a retry of ours; another id → duplicate. On any Redis failure the
    /// whole batch is decided by PostgreSQL.
    pub async fn decide(
        &self,
        events: &[EventRecord],
        store: &Store,
        metrics: &Metrics,
    ) -> Result<Vec<Decision>, hookgate_store::StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(decisions) = self.decide_redis(events).await {
            return Ok(decisions);
        }
        metrics.dedupe_fallback();
        let mut out = Vec::with_capacity(events.len());
        let window = Duration::from_secs(self.settings.dedupe_ttl_secs.max(1));
        for e in events {
            out.push(match store.reserve_event(e, window).await? {
                Reservation::New | Reservation::Ours => Decision::Publish,
                Reservation::Duplicate { .. } => Decision::Duplicate,
            });
        }
        Ok(out)
    }

    fn redis_paused(&self) -> bool {
        let guard = self.skip_until.lock().unwrap_or_else(|p| p.into_inner());
        guard.is_some_and(|until| Instant::now() < until)
    }

    fn pause_redis(&self) {
        *self.skip_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now() + RETRY_REDIS_AFTER);
    }

    async fn decide_redis(&self, events: &[EventRecord]) -> Option<Vec<Decision>> {
        if self.redis_paused() {
            return None;
        }
        let decisions = self.try_redis(events).await;
        if decisions.is_none() {
            self.pause_redis();
            // The next call connects afresh (behind Sentinel: to the master
            // it names now; a demoted master answers READONLY).
            *self.conn.lock().await = None;
        }
        decisions
    }

    async fn try_redis(&self, events: &[EventRecord]) -> Option<Vec<Decision>> {
        let mut conn = self.connection().await?;
        let ttl_ms = self.settings.dedupe_ttl_secs.saturating_mul(1000).max(1);
        let mut pipe = redis::pipe();
        for e in events {
            pipe.cmd("SET")
                .arg(self.key(e))
                .arg(e.event_id.to_string())
                .arg("NX")
                .arg("GET")
                .arg("PX")
                .arg(ttl_ms);
        }
        let result: Result<Vec<Option<String>>, _> =
            match tokio::time::timeout(self.timeout(), pipe.query_async(&mut conn)).await {
                Ok(r) => r,
                Err(_) => {
                    tracing::warn!("redis dedupe timed out; falling back to PostgreSQL");
                    return None;
                }
            };
        match result {
            Ok(previous) if previous.len() == events.len() => Some(
                previous
                    .into_iter()
                    .zip(events)
                    .map(|(prev, e)| match prev {
                        None => Decision::Publish,
                        Some(holder) if holder == e.event_id.to_string() => Decision::Publish,
                        Some(_) => Decision::Duplicate,
                    })
                    .collect(),
            ),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %hookgate_core::Chain(&e), "redis dedupe failed; falling back to PostgreSQL");
                None
            }
        }
    }
}
