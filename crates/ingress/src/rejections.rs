//! What a refused request may cost the database. Every refusal is answered
//! and counted; what is stored is bounded, so that an anonymous client
//! cannot fill the disk with rejection rows:
//!
//! - a request naming no configured tenant stores nothing (a counter only:
//!   anyone can invent paths);
//! - per tenant, source and reason at most `rejection_rows_per_sec` rows a
//!   second are stored (bursts up to `rejection_rows_burst`); beyond, the
//!   refusal is counted (`hookgate_rejections_unrecorded_total`) and not stored;
//! - a body is kept whole only where a re-admission can use it: refusals a
//!   configuration fix may turn into acceptance (the signature or its key,
//!   the account, the timestamp) and a database refusal of an authenticated
//!   request; each source's whole bodies share a budget of
//!   `rejection_body_bytes_per_hour`. Every other body, and any beyond that
//!   budget, keeps its first `rejection_body_prefix_bytes` bytes;
//! - while a source is onboarding (no delivery of it has verified yet),
//!   every refusal of it is kept whole, beyond the row rate, from a budget
//!   of its own: `rejection_onboarding_body_bytes` per source and day, each
//!   row counted as at least `rejection_body_prefix_bytes`. Beyond it, the
//!   usual bounds apply.

use crate::reason::Reason;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// The bounds (from `[http]`).
#[derive(Debug, Clone, Copy)]
pub struct RejectionLimits {
    /// Rows stored per second for one tenant, source and reason.
    pub rows_per_sec: f64,
    /// Rows stored at once beyond that rate.
    pub rows_burst: f64,
    /// Bytes of a body kept when it is not kept whole.
    pub body_prefix_bytes: usize,
    /// Whole bodies one source may store per hour, in bytes.
    pub body_bytes_per_hour: f64,
    /// Whole bodies one onboarding source may store per day, in bytes.
    pub onboarding_body_bytes: f64,
}

impl Default for RejectionLimits {
    fn default() -> Self {
        RejectionLimits {
            rows_per_sec: 20.0,
            rows_burst: 200.0,
            body_prefix_bytes: 1024,
            body_bytes_per_hour: 16.0 * 1024.0 * 1024.0,
            onboarding_body_bytes: 64.0 * 1024.0 * 1024.0,
        }
    }
}

/// A token bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// Takes `n` tokens of a bucket of `capacity` refilled at `rate` per
    /// second, if it holds them.
    fn take(&mut self, n: f64, capacity: f64, rate: f64, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(capacity);
        self.at = now;
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }
}

/// What to store of one refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Nothing (counted only).
    Nothing,
    /// A row with the first `n` bytes of the body.
    Prefix(usize),
    /// A row with the whole body.
    Whole,
}

/// Decides what each refusal stores; shared by every worker.
#[derive(Debug)]
pub(crate) struct RejectionGate {
    limits: RejectionLimits,
    rows: Mutex<HashMap<(String, String, &'static str), Bucket>>,
    bytes: Mutex<HashMap<(String, String), Bucket>>,
    onboarding: Mutex<HashMap<(String, String), Bucket>>,
}

/// Whether a re-admission may turn this refusal into an acceptance once
/// the configuration is fixed (so its whole body is worth keeping).
fn readmittable(reason: Reason) -> bool {
    matches!(
        reason,
        Reason::BadSignature
            | Reason::NoRecipeMatchedYet
            | Reason::MissingSignature
            | Reason::StaleTimestamp
            | Reason::AccountMismatch(_)
            | Reason::NoVerificationKey
            | Reason::StorageRefused
    )
}

impl RejectionGate {
    pub(crate) fn new(limits: RejectionLimits) -> Self {
        RejectionGate {
            limits,
            rows: Mutex::new(HashMap::new()),
            bytes: Mutex::new(HashMap::new()),
            onboarding: Mutex::new(HashMap::new()),
        }
    }

    /// What to store of a refusal of `tenant`/`source` (`None`: not
    /// configured) for `reason`, whose body has `len` bytes; `onboarding`:
    /// no delivery of the source has verified yet.
    pub(crate) fn keep(
        &self,
        tenant: Option<&str>,
        source: Option<&str>,
        reason: Reason,
        len: usize,
        onboarding: bool,
    ) -> Keep {
        let Some(tenant) = tenant else { return Keep::Nothing };
        let source = source.unwrap_or(crate::reason::UNKNOWN);
        let now = Instant::now();
        let l = &self.limits;
        if onboarding {
            let mut buckets = self.onboarding.lock().unwrap_or_else(|p| p.into_inner());
            let bucket = buckets.entry((tenant.to_owned(), source.to_owned())).or_insert(Bucket {
                tokens: l.onboarding_body_bytes,
                at: now,
            });
            let cost = len.max(l.body_prefix_bytes).max(1) as f64;
            let per_sec = l.onboarding_body_bytes / 86_400.0;
            if bucket.take(cost, l.onboarding_body_bytes, per_sec, now) {
                return Keep::Whole;
            }
        }
        let row = {
            let mut rows = self.rows.lock().unwrap_or_else(|p| p.into_inner());
            let key = (tenant.to_owned(), source.to_owned(), reason.as_str());
            let bucket = rows.entry(key).or_insert(Bucket {
                tokens: l.rows_burst,
                at: now,
            });
            bucket.take(1.0, l.rows_burst, l.rows_per_sec, now)
        };
        if !row {
            return Keep::Nothing;
        }
        let prefix = Keep::Prefix(l.body_prefix_bytes.min(len));
        if len <= l.body_prefix_bytes || !readmittable(reason) {
            return prefix;
        }
        let mut bytes = self.bytes.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = bytes.entry((tenant.to_owned(), source.to_owned())).or_insert(Bucket {
            tokens: l.body_bytes_per_hour,
            at: now,
        });
        if bucket.take(len as f64, l.body_bytes_per_hour, l.body_bytes_per_hour / 3600.0, now) {
            Keep::Whole
        } else {
            prefix
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate() -> RejectionGate {
        RejectionGate::new(RejectionLimits {
            rows_per_sec: 1.0,
            rows_burst: 3.0,
            body_prefix_bytes: 10,
            body_bytes_per_hour: 100.0,
            onboarding_body_bytes: 200.0,
        })
    }

    #[test]
    fn unknown_tenants_store_nothing() {
        assert_eq!(gate().keep(None, None, Reason::UnknownTenant, 0, false), Keep::Nothing);
        assert_eq!(gate().keep(None, None, Reason::NoRoute, 5, false), Keep::Nothing);
    }

    #[test]
    fn rows_are_bounded_per_source_and_reason() {
        let g = gate();
        let kept = (0..10)
            .filter(|_| g.keep(Some("t"), Some("s"), Reason::BodyTooLarge, 0, false) != Keep::Nothing)
            .count();
        assert_eq!(kept, 3, "the burst, then nothing within the same second");
        // Another reason or source has its own bucket.
        assert_ne!(g.keep(Some("t"), Some("s"), Reason::NotJson, 0, false), Keep::Nothing);
        assert_ne!(
            g.keep(Some("t"), Some("o"), Reason::BodyTooLarge, 0, false),
            Keep::Nothing
        );
    }

    #[test]
    fn only_readmittable_bodies_are_kept_whole_within_the_budget() {
        let g = gate();
        assert_eq!(
            g.keep(Some("t"), Some("s"), Reason::NotJson, 50, false),
            Keep::Prefix(10)
        );
        assert_eq!(
            g.keep(Some("t"), Some("s"), Reason::BadSignature, 8, false),
            Keep::Prefix(8)
        );
        assert_eq!(
            g.keep(Some("t"), Some("s"), Reason::BadSignature, 60, false),
            Keep::Whole
        );
        assert_eq!(
            g.keep(Some("t"), Some("s"), Reason::BadSignature, 60, false),
            Keep::Prefix(10),
            "the source's byte budget is spent"
        );
        assert_eq!(
            g.keep(Some("t"), Some("o"), Reason::BadSignature, 60, false),
            Keep::Whole
        );
    }

    #[test]
    fn an_onboarding_source_keeps_every_refusal_whole_within_its_own_budget() {
        let g = gate();
        // Beyond the row burst, and reasons whose bodies are usually cut.
        for _ in 0..3 {
            assert_eq!(g.keep(Some("t"), Some("s"), Reason::NotJson, 50, true), Keep::Whole);
        }
        // A small body still costs the prefix size: 3 × 50 + 10 = 160 of 200.
        assert_eq!(g.keep(Some("t"), Some("s"), Reason::BadSignature, 1, true), Keep::Whole);
        // Spent: the usual bounds (rows: the burst of 3 is intact for this reason).
        assert_eq!(
            g.keep(Some("t"), Some("s"), Reason::BadSignature, 60, true),
            Keep::Whole
        );
        assert_eq!(
            g.keep(Some("t"), Some("s"), Reason::NotJson, 60, true),
            Keep::Prefix(10),
            "onboarding budget spent, and NotJson is not re-admittable"
        );
        // Another source has its own budget.
        assert_eq!(g.keep(Some("t"), Some("o"), Reason::NotJson, 150, true), Keep::Whole);
    }
}
