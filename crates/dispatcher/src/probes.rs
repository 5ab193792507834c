//! Readiness probes for `/readyz`, implemented here because only this crate
//! names lapin and redis.

use crate::{Dedupe, Publisher};
use hookgate_core::{BoxFuture, ReadinessProbe};
use std::sync::Arc;

/// RabbitMQ is reachable (connects if needed).
#[derive(Debug, Clone)]
pub struct RabbitProbe(pub Arc<Publisher>);

impl ReadinessProbe for RabbitProbe {
    fn name(&self) -> &'static str {
        "rabbitmq"
    }
    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { self.0.connect().await.map_err(|e| e.to_string()) })
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
