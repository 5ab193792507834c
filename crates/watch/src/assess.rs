//! One look at everything: from the stored facts and the configuration,
//! each configured source's health and the conditions that make incidents.

use crate::health::{judge, Judge, Silence, SourceFacts};
use crate::incidents::{Condition, Key, Kind};
use chrono::{DateTime, Duration, Utc};
use hookgate_config::{Tenant, WatchSettings};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Refusals of one source and cause: (tenant, source, reason, count, latest).
pub type Refusals = (String, String, String, i64, DateTime<Utc>);

/// What the store holds that the evaluator judges by (read in one go).
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Accepted webhooks (new or duplicate): (tenant, source, hour, count).
    pub hourly_accepted: Vec<(String, String, DateTime<Utc>, i64)>,
    /// The first hour of any traffic: (tenant, source, hour).
    pub first_seen: Vec<(String, String, DateTime<Utc>)>,
    /// The last accepted request: (tenant, source, at).
    pub last_accepted: Vec<(String, String, DateTime<Utc>)>,
    /// Refusals in the current and the previous hour: (tenant, source,
    /// reason, count, latest).
    pub refused: Vec<Refusals>,
    /// The outbox: (tenant, parked, pending, oldest pending age in seconds).
    pub outbox: Vec<(String, i64, i64, f64)>,
    /// Seconds the longest-due pending notification has been due (0: none
    /// is due), and since the last publish of any relay (`None`: never).
    pub relay: (f64, Option<f64>),
}

/// The state of a source, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// Pushing as usual.
    Ok,
    /// Nothing accepted for longer than normal.
    Quiet,
    /// Requests arrive but are refused (by a cause, for the window).
    Refused,
    /// Its baseline is still being learned.
    Learning,
    /// Outside its active hours.
    OutsideHours,
}

impl HealthState {
    /// The name in the API and the console.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Ok => "ok",
            HealthState::Quiet => "quiet",
            HealthState::Refused => "refused",
            HealthState::Learning => "learning",
            HealthState::OutsideHours => "outside_hours",
        }
    }
}

/// The health of one configured source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceHealth {
    /// Tenant.
    pub tenant: String,
    /// Source.
    pub source: String,
    /// In one word.
    pub state: HealthState,
    /// Its silence, judged.
    pub silence: Silence,
    /// The last accepted webhook, if any is known.
    pub last_accepted_at: Option<DateTime<Utc>>,
    /// The cause that refuses everything, when it is refused.
    pub refused_by: Option<String>,
    /// Refusals in the window, by cause (most first).
    pub refusals: Vec<(String, i64)>,
}

/// Every configured source's health, and the conditions seen now.
#[derive(Debug, Clone, Default)]
pub struct Assessment {
    /// Per configured source, in configuration order.
    pub sources: Vec<SourceHealth>,
    /// Conditions (their samples are filled in by the caller).
    pub conditions: Vec<Condition>,
}

/// Judges every configured source and the outbox of every tenant. `since`
/// stands for "the last accepted" of a source that has none (the process
/// start). Facts of sources no longer configured are left out.
pub fn assess(
    tenants: &[Arc<Tenant>],
    facts: &Facts,
    settings: &WatchSettings,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Assessment {
    let mut out = Assessment::default();
    let window = Duration::seconds(i64::try_from(settings.rejection_window_secs).unwrap_or(i64::MAX / 1000));
    // The facts by source, in one pass each (sources × rows would be
    // quadratic in the number of sources).
    let mut by_source: HashMap<(&str, &str), SourceFacts> = HashMap::new();
    for (t, s, at) in &facts.last_accepted {
        by_source.entry((t, s)).or_default().last_accepted = Some(*at);
    }
    for (t, s, at) in &facts.first_seen {
        by_source.entry((t, s)).or_default().first_seen = Some(*at);
    }
    for (t, s, hour, n) in &facts.hourly_accepted {
        by_source.entry((t, s)).or_default().hourly_accepted.insert(*hour, *n);
    }
    let mut refused: HashMap<(&str, &str), Vec<&Refusals>> = HashMap::new();
    for r in &facts.refused {
        refused.entry((&r.0, &r.1)).or_default().push(r);
    }
    for tenant in tenants {
        let t = tenant.id.as_str();
        for source in tenant.sources.values() {
            let s = source.id.as_str();
            let sf = by_source.remove(&(t, s)).unwrap_or_default();
            let silence = judge(&source.watch, &sf, settings, since, now);
            let mut refusals: Vec<(String, i64)> = Vec::new();
            let mut refused_by = None;
            for (_, _, reason, n, latest) in refused.get(&(t, s)).into_iter().flatten().copied() {
                refusals.push((reason.clone(), *n));
                if *n >= settings.rejection_spike && *latest >= now - window {
                    out.conditions.push(Condition {
                        key: Key {
                            kind: Kind::RejectionSpike,
                            tenant: t.to_owned(),
                            source: s.to_owned(),
                            cause: reason.clone(),
                        },
                        count: *n,
                        samples: Vec::new(),
                        summary: format!("{n} requests to {t}/{s} refused as {reason} in the last two hours"),
                    });
                    // Everything arrives, nothing is accepted: refused, not quiet.
                    if sf.last_accepted.is_none_or(|a| a < now - window) && refused_by.is_none() {
                        refused_by = Some(reason.clone());
                    }
                }
            }
            refusals.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let state = match (&refused_by, silence.judged_by) {
                (Some(_), _) => HealthState::Refused,
                (None, _) if silence.quiet => HealthState::Quiet,
                (None, Judge::Learning) => HealthState::Learning,
                (None, Judge::OutsideHours) => HealthState::OutsideHours,
                (None, _) => HealthState::Ok,
            };
            if silence.quiet {
                out.conditions.push(Condition {
                    key: Key {
                        kind: Kind::SourceQuiet,
                        tenant: t.to_owned(),
                        source: s.to_owned(),
                        cause: String::new(),
                    },
                    count: silence.seconds_since_accepted as i64,
                    samples: Vec::new(),
                    summary: format!(
                        "{t}/{s}: nothing accepted for {} ({})",
                        crate::health::words(silence.seconds_since_accepted as u64),
                        silence.rule
                    ),
                });
            }
            out.sources.push(SourceHealth {
                tenant: t.to_owned(),
                source: s.to_owned(),
                state,
                silence,
                last_accepted_at: sf.last_accepted,
                refused_by,
                refusals,
            });
        }
        if let Some((_, parked, _, oldest)) = facts.outbox.iter().find(|o| o.0 == t) {
            if *parked >= settings.parked_threshold {
                out.conditions.push(Condition {
                    key: Key {
                        kind: Kind::Parked,
                        tenant: t.to_owned(),
                        source: String::new(),
                        cause: String::new(),
                    },
                    count: *parked,
                    samples: Vec::new(),
                    summary: format!("{t}: {parked} notification(s) parked, waiting for an operator"),
                });
            }
            if *oldest >= settings.outbox_age_secs as f64 {
                out.conditions.push(Condition {
                    key: Key {
                        kind: Kind::OutboxAge,
                        tenant: t.to_owned(),
                        source: String::new(),
                        cause: String::new(),
                    },
                    count: *oldest as i64,
                    samples: Vec::new(),
                    summary: format!(
                        "{t}: the oldest pending notification waits for {}",
                        crate::health::words(*oldest as u64)
                    ),
                });
            }
        }
    }
    let (due, last_publish) = facts.relay;
    let stall = settings.relay_stall_secs as f64;
    if due >= stall && last_publish.is_none_or(|p| p >= stall) {
        let since = match last_publish {
            Some(p) => format!("for {}", crate::health::words(p as u64)),
            None => "ever".to_owned(),
        };
        out.conditions.push(Condition {
            key: Key {
                kind: Kind::RelayNotPublishing,
                tenant: String::new(),
                source: String::new(),
                cause: String::new(),
            },
            count: due as i64,
            samples: Vec::new(),
            summary: format!(
                "notifications have been due for {} and no relay has published {since}",
                crate::health::words(due as u64)
            ),
        });
    }
    out
}
