//! The HTTP notifier of operator events (`watch.notify_url`, and a
//! tenant's own `[watch] notify_url` for its incidents): every incident
//! transition is POSTed as its CloudEvent, signed the Standard
//! Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature:
//! v1,<base64 HMAC-SHA256 of id.timestamp.body>`), and retried with backoff
//! until answered 2xx. A lease per event keeps two processes off the same one.

use hookgate_config::{LiveTenants, TenantNotify};
use hookgate_core::SecretBytes;
use hookgate_store::{OperatorEvent, Store};
use hookgate_telemetry::Metrics;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Events sent per round at most.
const PER_ROUND: i64 = 50;
/// How long one POST may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait between two attempts, seconds.
const MAX_BACKOFF: f64 = 600.0;

/// The notifier of one process.
#[derive(Debug)]
pub struct Notifier {
    store: Store,
    /// The gateway's endpoint (`watch.notify_url`) and key.
    global: Option<(String, SecretBytes)>,
    /// Tenants' own endpoints (`[watch]` of a tenant file), read per round.
    tenants: LiveTenants,
    http: reqwest::Client,
    metrics: Arc<Metrics>,
}

/// The Standard Webhooks headers of one message.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> [(String, String); 3] {
    [
        ("webhook-id".to_owned(), id.to_owned()),
        ("webhook-timestamp".to_owned(), timestamp.to_string()),
        (
            "webhook-signature".to_owned(),
            hookgate_signature::standard_webhooks::sign_v1(key, id, timestamp, body),
        ),
    ]
}

/// The wait after `attempts` failed attempts: 2 s doubling, at most 10 min.
pub fn backoff(attempts: i32) -> f64 {
    (2f64.powi(attempts.clamp(0, 20) + 1)).min(MAX_BACKOFF)
}

impl Notifier {
    /// A notifier of the gateway's endpoint (when `watch.notify_url` is set)
    /// and of every tenant's own; `None` only when no HTTP client can be made.
    pub fn new(
        store: Store,
        settings: &hookgate_config::WatchSettings,
        tenants: LiveTenants,
        metrics: Arc<Metrics>,
    ) -> Option<Notifier> {
        let global = match (&settings.notify_key, settings.notify_url.as_str()) {
            (Some(key), url) if !url.is_empty() => Some((url.to_owned(), key.clone())),
            _ => None,
        };
        let http = match reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent("hookgate")
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %hookgate_core::Chain(&e), "no HTTP client for operator event notifications; they are not POSTed");
                return None;
            }
        };
        Some(Notifier {
            store,
            global,
            tenants,
            http,
            metrics,
        })
    }

    /// POSTs one event, signed; true when answered 2xx.
    async fn post(&self, url: &str, key: &SecretBytes, event: &OperatorEvent) -> bool {
        let id = event.event["id"].as_str().unwrap_or_default().to_owned();
        let body = event.event.to_string().into_bytes();
        let now = chrono::Utc::now().timestamp();
        let mut req = self
            .http
            .post(url)
            .header("content-type", "application/cloudevents+json");
        for (name, value) in sign(key.expose(), &id, now, &body) {
            req = req.header(name, value);
        }
        let ok = match req.body(body).send().await {
            Ok(r) if r.status().is_success() => true,
            Ok(r) => {
                tracing::warn!(
                    event = event.id,
                    status = r.status().as_u16(),
                    "operator event notification refused; retried"
                );
                false
            }
            Err(e) => {
                tracing::warn!(event = event.id, error = %hookgate_core::Chain(&e), "operator event notification failed; retried");
                false
            }
        };
        self.metrics.watch_round(if ok { "notified" } else { "notify_failed" });
        ok
    }

    /// Sends what is due, to the gateway's endpoint and to each tenant's;
    /// returns how many were delivered.
    pub async fn round(&self) -> Result<usize, hookgate_store::StoreError> {
        let lease = TIMEOUT.as_secs_f64() * 3.0;
        let mut delivered = 0;
        if let Some((url, key)) = &self.global {
            for (event, attempts) in self.store.lease_notifications(PER_ROUND, lease).await? {
                let ok = self.post(url, key, &event).await;
                self.store
                    .notification_attempted(event.id, ok, backoff(attempts))
                    .await?;
                delivered += usize::from(ok);
            }
        }
        let endpoints: HashMap<String, TenantNotify> = self
            .tenants
            .load()
            .iter()
            .filter_map(|t| Some((t.id.to_string(), t.notify.clone()?)))
            .collect();
        let with_url: Vec<String> = endpoints.keys().cloned().collect();
        for (event, tenant, attempts) in self
            .store
            .lease_tenant_notifications(&with_url, PER_ROUND, lease)
            .await?
        {
            let Some(to) = endpoints.get(&tenant) else { continue };
            let ok = self.post(&to.url, &to.key, &event).await;
            self.store
                .tenant_notification_attempted(event.id, &tenant, ok, backoff(attempts))
                .await?;
            delivered += usize::from(ok);
        }
        Ok(delivered)
    }

    /// Runs rounds every `every` until `shutdown`.
    pub async fn run(self: Arc<Self>, every: Duration, shutdown: CancellationToken) {
        loop {
            if let Err(e) = self.round().await {
                tracing::warn!(error = %hookgate_core::Chain(&e), "operator event notifications failed; retried");
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_ten_minutes() {
        assert_eq!(backoff(0), 2.0);
        assert_eq!(backoff(3), 16.0);
        assert_eq!(backoff(40), MAX_BACKOFF);
    }

    /// The example of the Standard Webhooks specification.
    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        let key = hookgate_signature::decode_base64("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let h = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(h[2].1, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
