//! Readiness probes for `/readyz`, implemented here because only this crate
//! names lapin and redis.

use crate::{Dedupe, Publisher};
use hookgate_core::{BoxFuture, ReadinessProbe};
use std::sync::Arc;

/// The publisher holds an open connection and channel for some vhost
/// (else nothing can publish: not ready); vhosts that are down are shown as
/// degraded with the tenants they hold back. Read-only: a probe never connects or declares topology (the relay does,
/// before each claim), so `/readyz` cannot change the broker.
#[derive(Debug, Clone)]
pub struct RabbitProbe(pub Arc<Publisher>);

impl ReadinessProbe for RabbitProbe {
    fn name(&self) -> &'static str {
        "rabbitmq"
    }
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { self.0.connected().await })
    }
    fn degraded(&self) -> BoxFuture<'_, Option<String>> {
        Box::pin(async move { self.0.degraded().await })
    }
}

/// Redis answers PING.
#[derive(Debug, Clone)]
pub struct RedisProbe(pub Arc<Dedupe>);

impl ReadinessProbe for RedisProbe {
    fn name(&self) -> &'static str {
        "redis"
    }
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { self.0.ping().await })
    }
}

/// Every relay loop of this process is running (a loop that died is
/// restarted by its supervisor; until then the process is not ready).
#[derive(Debug, Clone)]
pub struct RelayProbe {
    /// Where the loops count themselves.
    pub metrics: Arc<hookgate_telemetry::Metrics>,
    /// Loops this process runs.
    pub expected: i64,
}

impl ReadinessProbe for RelayProbe {
    fn name(&self) -> &'static str {
        "relay"
    }
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let running = self.metrics.relay_loops_running();
            if running >= self.expected {
                Ok(())
            } else {
                Err(format!("{running} of {} relay loops running", self.expected))
            }
        })
    }
}
