//! The traffic flusher: every few seconds, the process's tally of answered
//! webhooks (per source, hour and outcome) is added to PostgreSQL's hourly
//! rollup, which the console reads. A flush that fails puts its counts back
//! for the next one; the last flush runs at shutdown. Counts of a process
//! that is killed between flushes are lost (at most one interval): the
//! rollup is for looking, the notifications table stays the record.

use chrono::{DateTime, TimeZone, Utc};
use hookgate_store::{Store, TrafficDelta};
use hookgate_telemetry::Metrics;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long the rollup keeps an hour (five weeks: what an hour-of-week
/// baseline needs).
const KEEP_DAYS: i64 = 35;

/// Adds what was tallied since the last call to the rollup.
pub async fn flush(store: &Store, metrics: &Metrics) -> Result<usize, hookgate_store::StoreError> {
    let taken = metrics.traffic().take();
    if taken.is_empty() {
        return Ok(0);
    }
    let at = |ms: i64| -> DateTime<Utc> { Utc.timestamp_millis_opt(ms).single().unwrap_or_else(Utc::now) };
    let deltas: Vec<TrafficDelta> = taken
        .iter()
        .map(|(k, c)| TrafficDelta {
            tenant: k.tenant.clone(),
            source: k.source.clone(),
            hour: at(k.hour * 1000),
            outcome: k.outcome.to_owned(),
            reason: k.reason.clone(),
            count: i64::try_from(c.count).unwrap_or(i64::MAX),
            last_at: at(c.last_ms),
        })
        .collect();
    match store.add_traffic(&deltas).await {
        Ok(()) => Ok(deltas.len()),
        Err(e) => {
            metrics.traffic().restore(taken);
            Err(e)
        }
    }
}

/// Flushes every `every` until `shutdown`, then once more; prunes hours
/// older than five weeks once an hour.
pub async fn run(store: Store, metrics: Arc<Metrics>, every: Duration, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_prune: Option<tokio::time::Instant> = None;
    loop {
        let stopping = tokio::select! {
            _ = shutdown.cancelled() => true,
            _ = tick.tick() => false,
        };
        if let Err(e) = flush(&store, &metrics).await {
            tracing::warn!(error = %hookgate_core::Chain(&e), "could not add the traffic tally to the rollup; kept for the next flush");
        }
        if stopping {
            return;
        }
        if last_prune.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
            last_prune = Some(tokio::time::Instant::now());
            if let Err(e) = store
                .prune_traffic(Utc::now() - chrono::Duration::days(KEEP_DAYS))
                .await
            {
                tracing::warn!(error = %hookgate_core::Chain(&e), "could not prune the traffic rollup");
            }
        }
    }
}
