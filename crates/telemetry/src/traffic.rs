//! Traffic per source and hour, tallied in memory as webhooks are answered
//! and taken out by the process's flusher, which adds it to PostgreSQL's
//! hourly rollup (a few rows per source and flush, never a row per
//! webhook). The console's overview and source health read that rollup, so
//! no page ever counts the notifications table.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// What one tallied count is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrafficKey {
    /// Tenant id (as the metrics label it).
    pub tenant: String,
    /// Source id.
    pub source: String,
    /// Start of the hour, Unix seconds.
    pub hour: i64,
    /// `accepted`, `duplicate` or `rejected`.
    pub outcome: &'static str,
    /// The rejection's reason (empty otherwise).
    pub reason: String,
}

/// How many, and when the last one was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrafficCount {
    /// Requests.
    pub count: u64,
    /// The last one, Unix milliseconds.
    pub last_ms: i64,
}

/// The tally of one process since its last flush.
#[derive(Debug, Default)]
pub struct Traffic {
    counts: Mutex<HashMap<TrafficKey, TrafficCount>>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Traffic {
    /// Counts one request now.
    pub fn add(&self, tenant: &str, source: &str, outcome: &'static str, reason: &str) {
        let ms = now_ms();
        let key = TrafficKey {
            tenant: tenant.to_owned(),
            source: source.to_owned(),
            hour: ms.div_euclid(3_600_000) * 3600,
            outcome,
            reason: reason.to_owned(),
        };
        let Ok(mut counts) = self.counts.lock() else { return };
        let c = counts.entry(key).or_insert(TrafficCount { count: 0, last_ms: ms });
        c.count += 1;
        c.last_ms = c.last_ms.max(ms);
    }

    /// Takes everything tallied so far (the flusher's turn).
    pub fn take(&self) -> Vec<(TrafficKey, TrafficCount)> {
        match self.counts.lock() {
            Ok(mut counts) => counts.drain().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Puts back what a failed flush took, to be added next time.
    pub fn restore(&self, taken: Vec<(TrafficKey, TrafficCount)>) {
        let Ok(mut counts) = self.counts.lock() else { return };
        for (key, back) in taken {
            let c = counts.entry(key).or_insert(TrafficCount {
                count: 0,
                last_ms: back.last_ms,
            });
            c.count += back.count;
            c.last_ms = c.last_ms.max(back.last_ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_take_and_restore() {
        let t = Traffic::default();
        t.add("acme", "keeta", "accepted", "");
        t.add("acme", "keeta", "accepted", "");
        t.add("acme", "keeta", "rejected", "bad_signature");
        let taken = t.take();
        assert_eq!(taken.len(), 2);
        assert!(t.take().is_empty(), "a take empties the tally");
        t.restore(taken);
        t.add("acme", "keeta", "accepted", "");
        let mut again = t.take();
        again.sort_by_key(|(k, _)| k.outcome);
        assert_eq!(again[0].1.count, 3);
        assert_eq!(again[1].1.count, 1);
        assert_eq!(again[1].0.reason, "bad_signature");
    }
}
