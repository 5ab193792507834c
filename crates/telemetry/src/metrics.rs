//! Prometheus metrics, rendered by `/metrics` in the text exposition format.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    tenant: String,
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AcceptLabels {
    tenant: String,
    source: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RejectLabels {
    tenant: String,
    source: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TenantLabels {
    tenant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PublishLabels {
    tenant: String,
    routing_key: String,
}

/// How an accepted webhook was stored.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    /// New notification.
    New,
    /// Redelivery of a stored one.
    Duplicate,
}

/// Every hookgate metric. Labels use the tenant and source ids from
/// configuration only (unknown path segments are counted as `unknown`), so
/// cardinality is bounded by configuration.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    received: Family<SourceLabels, Counter>,
    accepted: Family<AcceptLabels, Counter>,
    rejected: Family<RejectLabels, Counter>,
    heartbeats: Family<SourceLabels, Counter>,
    unverified: Family<SourceLabels, Counter>,
    commit_seconds: Histogram,
    outbox_pending: Gauge,
    outbox_parked: Gauge,
    outbox_oldest: Gauge<f64, AtomicU64>,
    published: Family<PublishLabels, Counter>,
    dedupe_hits: Family<TenantLabels, Counter>,
    dedupe_fallbacks: Counter,
    publish_failures: Family<TenantLabels, Counter>,
    parked: Family<TenantLabels, Counter>,
    publish_seconds: Histogram,
    resident_memory: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn source(tenant: &str, source: &str) -> SourceLabels {
    SourceLabels {
        tenant: tenant.to_owned(),
        source: source.to_owned(),
    }
}

fn tenant(t: &str) -> TenantLabels {
    TenantLabels { tenant: t.to_owned() }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("hookgate");
        let m = Metrics {
            received: Family::default(),
            accepted: Family::default(),
            rejected: Family::default(),
            heartbeats: Family::default(),
            unverified: Family::default(),
            commit_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            outbox_pending: Gauge::default(),
            outbox_parked: Gauge::default(),
            outbox_oldest: Gauge::default(),
            published: Family::default(),
            dedupe_hits: Family::default(),
            dedupe_fallbacks: Counter::default(),
            publish_failures: Family::default(),
            parked: Family::default(),
            publish_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            resident_memory: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("webhooks_received", "Webhook requests received", m.received.clone());
        registry.register(
            "webhooks_accepted",
            "Webhooks committed and acknowledged",
            m.accepted.clone(),
        );
        registry.register("webhooks_rejected", "Webhooks refused, by reason", m.rejected.clone());
        registry.register("heartbeats", "Provider heartbeats answered", m.heartbeats.clone());
        registry.register(
            "webhooks_unverified",
            "Webhooks accepted without a matching signature (observe mode)",
            m.unverified.clone(),
        );
        registry.register(
            "commit_seconds",
            "Time to commit a notification and its outbox row",
            m.commit_seconds.clone(),
        );
        registry.register(
            "outbox_pending",
            "Notifications waiting to be published",
            m.outbox_pending.clone(),
        );
        registry.register(
            "outbox_parked",
            "Notifications parked after max attempts",
            m.outbox_parked.clone(),
        );
        registry.register(
            "outbox_oldest_pending_seconds",
            "Age of the oldest pending notification",
            m.outbox_oldest.clone(),
        );
        registry.register("events_published", "Events confirmed by RabbitMQ", m.published.clone());
        registry.register("dedupe_hits", "Events suppressed as duplicates", m.dedupe_hits.clone());
        registry.register(
            "dedupe_fallbacks",
            "Dedupe decisions taken by PostgreSQL because Redis failed",
            m.dedupe_fallbacks.clone(),
        );
        registry.register(
            "publish_failures",
            "Notifications whose publish failed (will retry)",
            m.publish_failures.clone(),
        );
        registry.register("notifications_parked", "Notifications parked", m.parked.clone());
        registry.register(
            "publish_seconds",
            "Time from publish to broker confirm",
            m.publish_seconds.clone(),
        );
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of this process",
            m.resident_memory.clone(),
        );
        Metrics { registry, ..m }
    }

    /// A request arrived for a source.
    pub fn received(&self, t: &str, s: &str) {
        self.received.get_or_create(&source(t, s)).inc();
    }
    /// A webhook was committed and acknowledged.
    pub fn accepted(&self, t: &str, s: &str, outcome: Outcome) {
        let outcome = match outcome {
            Outcome::New => "new",
            Outcome::Duplicate => "duplicate",
        };
        self.accepted
            .get_or_create(&AcceptLabels {
                tenant: t.into(),
                source: s.into(),
                outcome: outcome.into(),
            })
            .inc();
    }
    /// A webhook was refused.
    pub fn rejected(&self, t: &str, s: &str, reason: &str) {
        self.rejected
            .get_or_create(&RejectLabels {
                tenant: t.into(),
                source: s.into(),
                reason: reason.into(),
            })
            .inc();
    }
    /// Count of refusals so far (tests, `bench`).
    pub fn rejected_count(&self, t: &str, s: &str, reason: &str) -> u64 {
        self.rejected
            .get_or_create(&RejectLabels {
                tenant: t.into(),
                source: s.into(),
                reason: reason.into(),
            })
            .get()
    }
    /// A heartbeat was answered.
    pub fn heartbeat(&self, t: &str, s: &str) {
        self.heartbeats.get_or_create(&source(t, s)).inc();
    }
    /// A webhook was accepted unverified (observe mode).
    pub fn unverified(&self, t: &str, s: &str) {
        self.unverified.get_or_create(&source(t, s)).inc();
    }
    /// Commit latency.
    pub fn commit_latency(&self, seconds: f64) {
        self.commit_seconds.observe(seconds);
    }
    /// Outbox gauges.
    pub fn outbox(&self, pending: i64, parked: i64, oldest_secs: f64) {
        self.outbox_pending.set(pending);
        self.outbox_parked.set(parked);
        self.outbox_oldest.set(oldest_secs);
    }
    /// An event was confirmed by the broker.
    pub fn published(&self, t: &str, routing_key: &str, confirm_seconds: f64) {
        self.published
            .get_or_create(&PublishLabels {
                tenant: t.into(),
                routing_key: routing_key.into(),
            })
            .inc();
        self.publish_seconds.observe(confirm_seconds);
    }
    /// Events confirmed so far for a tenant and routing key.
    pub fn published_count(&self, t: &str, routing_key: &str) -> u64 {
        self.published
            .get_or_create(&PublishLabels {
                tenant: t.into(),
                routing_key: routing_key.into(),
            })
            .get()
    }
    /// An event was suppressed as a duplicate.
    pub fn dedupe_hit(&self, t: &str) {
        self.dedupe_hits.get_or_create(&tenant(t)).inc();
    }
    /// Duplicates suppressed so far for a tenant.
    pub fn dedupe_hit_count(&self, t: &str) -> u64 {
        self.dedupe_hits.get_or_create(&tenant(t)).get()
    }
    /// Redis failed; PostgreSQL decided.
    pub fn dedupe_fallback(&self) {
        self.dedupe_fallbacks.inc();
    }
    /// Fallback decisions so far.
    pub fn dedupe_fallback_count(&self) -> u64 {
        self.dedupe_fallbacks.get()
    }
    /// A publish failed and will be retried.
    pub fn publish_failure(&self, t: &str) {
        self.publish_failures.get_or_create(&tenant(t)).inc();
    }
    /// A notification was parked.
    pub fn parked(&self, t: &str) {
        self.parked.get_or_create(&tenant(t)).inc();
    }

    /// Renders every metric in the Prometheus text format.
    pub fn render(&self) -> String {
        if let Some(rss) = resident_memory_bytes() {
            self.resident_memory.set(rss);
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// VmRSS of this process from `/proc/self/status` (Linux), in bytes.
fn resident_memory_bytes() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_by_reason() {
        let m = Metrics::new();
        m.received("demo", "keeta");
        m.rejected("demo", "keeta", "bad_signature");
        m.rejected("demo", "keeta", "bad_signature");
        m.outbox(3, 1, 0.5);
        let text = m.render();
        assert!(
            text.contains(r#"hookgate_webhooks_rejected_total{tenant="demo",source="keeta",reason="bad_signature"} 2"#),
            "{text}"
        );
        assert!(text.contains("hookgate_outbox_pending 3"), "{text}");
        assert!(
            text.contains(r#"hookgate_webhooks_received_total{tenant="demo",source="keeta"} 1"#),
            "{text}"
        );
    }
}
