//! Ports: traits through which crates meet without depending on each other.

use std::{future::Future, pin::Pin};

/// A boxed, sendable future (object-safe async in traits).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A dependency that `/readyz` checks, e.g. RabbitMQ or Redis. The ingress
/// reports readiness without naming the crates that implement these.
pub trait ReadinessProbe: Send + Sync + std::fmt::Debug {
    /// Short name shown in `/readyz`, e.g. `rabbitmq`.
    fn name(&self) -> &'static str;
    /// Resolves to `Err(reason)` when the dependency is not usable.
    fn check(&self) -> BoxFuture<'_, Result<(), String>>;
    /// Resolves to what works only in part (e.g. one broker vhost of
    /// several), shown by `/readyz` without making the process unready:
    /// the parts that work must not be taken out of service for it.
    fn degraded(&self) -> BoxFuture<'_, Option<String>> {
        Box::pin(async { None })
    }
}
