//! The stale-state guard: an event whose state comes before one its subject
//! already published (in the provider's own order, `hookgate_providers::
//! progress`) is marked stale, routed to `<routing key>.stale` or parked,
//! as its source's `stale_policy` says.
//!
//! The furthest state per (tenant, subject, track) lives in PostgreSQL: it
//! is read for the batch's subjects before publishing (one query) and
//! advanced in the transaction that marks the rows published, so it holds
//! across relays and restarts. Rows of one subject are claimed by one relay
//! at a time and in commit order (the claim's ordering rule), so the read
//! cannot miss a state another relay is about to write; the upsert keeps
//! the higher rank whatever happens.

use crate::{RowFailure, Work};
use hookgate_config::{LiveTenants, StalePolicy};
use hookgate_providers::progress;
use hookgate_store::{StateAdvance, Store, StoreError, SubjectState};
use hookgate_telemetry::Metrics;
use std::collections::HashSet;

/// Judges every event of the batch against its subject's recorded state,
/// in commit order; records on each row what it advances and how many of
/// its events were stale (counted once the row is concluded: a row retried
/// is judged again). Returns how many were stale.
pub(crate) async fn guard(store: &Store, tenants: &LiveTenants, work: &mut [Work]) -> Result<usize, StoreError> {
    let mut seen = HashSet::new();
    let subjects: Vec<(String, String)> = work
        .iter()
        .filter(|w| w.failure.is_none())
        .flat_map(|w| w.events.iter().map(move |(e, _)| (w, e)))
        .filter(|(_, e)| progress(&e.event).is_some())
        .map(|(w, e)| (w.row.tenant.as_str().to_owned(), e.event.subject.clone()))
        .filter(|k| seen.insert(k.clone()))
        .collect();
    if subjects.is_empty() {
        return Ok(0);
    }
    let mut states = store.subject_states(&subjects).await?;
    let tenants = tenants.load();
    let mut stale = 0;
    for w in work.iter_mut().filter(|w| w.failure.is_none()) {
        let policy = tenants
            .get(w.row.tenant.as_str())
            .and_then(|t| t.source(w.row.source.as_str()))
            .map(|s| s.stale_policy)
            .unwrap_or_default();
        let mut parked_behind = None;
        for (event, record) in &mut w.events {
            let Some(p) = progress(&event.event) else {
                continue;
            };
            let key = (
                w.row.tenant.as_str().to_owned(),
                event.event.subject.clone(),
                p.track.to_owned(),
            );
            let recorded = states.get(&key);
            if let Some(r) = recorded.filter(|r| p.is_behind(r.rank)) {
                if policy == StalePolicy::Off {
                    continue;
                }
                stale += 1;
                w.stale.0 += 1;
                w.stale.1 = policy.as_str();
                let behind = r.state.clone();
                tracing::info!(
                    notification.id = w.row.notification_id,
                    subject = %event.event.subject,
                    event = %record.routing_key,
                    behind = %behind,
                    policy = policy.as_str(),
                    "stale event: its subject already reached a later state"
                );
                event.event.stale = true;
                event.event.stale_behind = Some(behind.clone());
                if policy == StalePolicy::Route {
                    record.routing_key.push_str(".stale");
                }
                record.stale_behind = Some(behind.clone());
                parked_behind = parked_behind.or((policy == StalePolicy::Park).then_some(behind));
                continue;
            }
            // A first state (rank 1) can make nothing stale: not written.
            if p.rank <= 1 && recorded.is_none() {
                continue;
            }
            let state = SubjectState {
                rank: p.rank,
                state: record.routing_key.clone(),
                notification_id: w.row.notification_id,
            };
            w.advances.push(StateAdvance {
                tenant: key.0.clone(),
                subject: key.1.clone(),
                track: key.2.clone(),
                rank: state.rank,
                state: state.state.clone(),
                notification_id: state.notification_id,
            });
            states.insert(key, state);
        }
        if let Some(behind) = parked_behind {
            w.advances.clear();
            w.failure = Some(RowFailure::Stale { behind });
        }
    }
    Ok(stale)
}

/// The advances of the published rows, one per key (the last: a row's
/// advance never ranks below an earlier one of the batch), in key order (two
/// settle transactions that touch the same keys lock them in one order).
pub(crate) fn advances<'a>(rows: impl Iterator<Item = &'a Work>) -> Vec<StateAdvance> {
    let mut out: Vec<StateAdvance> = Vec::new();
    let mut at = std::collections::HashMap::new();
    for a in rows.flat_map(|w| w.advances.iter()) {
        let key = (a.tenant.as_str(), a.subject.as_str(), a.track.as_str());
        match at.get(&key) {
            Some(&i) => out[i] = a.clone(),
            None => {
                at.insert(key, out.len());
                out.push(a.clone());
            }
        }
    }
    out.sort_by(|a, b| (&a.tenant, &a.subject, &a.track).cmp(&(&b.tenant, &b.subject, &b.track)));
    out
}

/// Counts the stale events of a concluded row (published or parked).
pub(crate) fn count(metrics: &Metrics, w: &Work) {
    for _ in 0..w.stale.0 {
        metrics.stale_event(w.row.tenant.as_str(), w.row.source.as_str(), w.stale.1);
    }
}
