//! Incidents: open → acknowledged → resolved, or ignored. Keyed by (kind,
//! tenant, source, cause), so a storm is one incident with a count; a
//! transition happens once per change of state, never once per request.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A source stopped pushing (by its cadence or its baseline).
    SourceQuiet,
    /// Many refusals of one cause (a provider rotated a secret).
    RejectionSpike,
    /// A tenant has parked notifications.
    Parked,
    /// A tenant's oldest pending notification is old: the relay is behind.
    OutboxAge,
    /// A tenant file change was refused; the previous configuration serves.
    ReloadRefused,
    /// Notifications are due and no relay has published for a while.
    RelayNotPublishing,
    /// RabbitMQ (or one of its vhosts) or Redis is unreachable from the
    /// evaluating process (cause: the dependency).
    DependencyDown,
    /// The gateway's TLS certificate expires soon (or has expired).
    TlsExpiry,
    /// A replay job failed (cause: the job id); an operator resolves it.
    ReplayFailed,
    /// A replay job finished (a notice: recorded resolved, one event).
    ReplayFinished,
    /// A source gained a verification key (a notice; cause: its fingerprint).
    KeyAdded,
    /// A source lost a verification key (a notice; cause: its fingerprint).
    KeyRemoved,
    /// An ingress answered webhooks from its spool while PostgreSQL was
    /// away, and has drained them (a notice; cause: the process).
    Spooled,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 13] = [
        Kind::SourceQuiet,
        Kind::RejectionSpike,
        Kind::Parked,
        Kind::OutboxAge,
        Kind::ReloadRefused,
        Kind::RelayNotPublishing,
        Kind::DependencyDown,
        Kind::TlsExpiry,
        Kind::ReplayFailed,
        Kind::ReplayFinished,
        Kind::KeyAdded,
        Kind::KeyRemoved,
        Kind::Spooled,
    ];

    /// The name in the API, the database and routing keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SourceQuiet => "source_quiet",
            Kind::RejectionSpike => "rejection_spike",
            Kind::Parked => "parked",
            Kind::OutboxAge => "outbox_age",
            Kind::ReloadRefused => "reload_refused",
            Kind::RelayNotPublishing => "relay_not_publishing",
            Kind::DependencyDown => "dependency_down",
            Kind::TlsExpiry => "tls_expiry",
            Kind::ReplayFailed => "replay_failed",
            Kind::ReplayFinished => "replay_finished",
            Kind::KeyAdded => "key_added",
            Kind::KeyRemoved => "key_removed",
            Kind::Spooled => "spooled",
        }
    }

    /// Parses [`Kind::as_str`].
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Judged by the evaluator from stored facts (so resolved when the
    /// condition is no longer seen); the others are raised and cleared by
    /// the part that knows (a reload).
    pub fn evaluated(self) -> bool {
        matches!(
            self,
            Kind::SourceQuiet
                | Kind::RejectionSpike
                | Kind::Parked
                | Kind::OutboxAge
                | Kind::RelayNotPublishing
                | Kind::DependencyDown
                | Kind::TlsExpiry
        )
    }

    /// A notice: something that happened rather than a condition that lasts.
    /// It is recorded resolved at once, with one transition (`<kind>.resolved`).
    pub fn notice(self) -> bool {
        matches!(
            self,
            Kind::ReplayFinished | Kind::KeyAdded | Kind::KeyRemoved | Kind::Spooled
        )
    }
}

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Happening, nobody has said anything.
    Open,
    /// Happening, someone is on it.
    Acknowledged,
    /// Over (recovered, or an operator said so).
    Resolved,
    /// An operator chose not to be told while it lasts.
    Ignored,
}

impl State {
    /// The name in the API, the database and routing keys.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Acknowledged => "acknowledged",
            State::Resolved => "resolved",
            State::Ignored => "ignored",
        }
    }

    /// Parses [`State::as_str`].
    pub fn parse(s: &str) -> Option<State> {
        [State::Open, State::Acknowledged, State::Resolved, State::Ignored]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// Whether an operator may move an incident from `self` to `to`.
    pub fn can_become(self, to: State) -> bool {
        matches!(
            (self, to),
            (State::Open, State::Acknowledged | State::Resolved | State::Ignored)
                | (State::Acknowledged, State::Resolved | State::Ignored)
        )
    }
}

/// What identifies one incident among the active ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Key {
    /// Kind.
    pub kind: Kind,
    /// Tenant ('' for the whole gateway).
    pub tenant: String,
    /// Source ('' when not about one).
    pub source: String,
    /// Cause within the kind (a refusal's reason; '' when none).
    pub cause: String,
}

/// A condition seen now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    /// Which incident it is.
    pub key: Key,
    /// How many (refusals, parked rows, seconds of age, ...).
    pub count: i64,
    /// A few ids that show it (notification or rejection ids).
    pub samples: Vec<i64>,
    /// One line for people.
    pub summary: String,
}

/// An incident that is not closed.
#[derive(Debug, Clone, PartialEq)]
pub struct Active {
    /// Id.
    pub id: i64,
    /// Key.
    pub key: Key,
    /// State (open, acknowledged or ignored).
    pub state: State,
}

/// What the evaluator changes.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A new incident (a transition to `open`).
    Open(Condition),
    /// Still happening: new count and samples, no transition.
    Update(i64, Condition),
    /// Recovered: a transition to `resolved`.
    Resolve(i64),
    /// An ignored incident's condition is over: closed without a transition.
    Close(i64),
}

/// Compares the active incidents with the conditions seen now. Only
/// [`Kind::evaluated`] incidents are resolved by absence, and only those of
/// kinds this round judged (`unjudged`: kinds the evaluating process cannot
/// see, e.g. its dependencies when it has none; their incidents stay).
pub fn decide(active: &[Active], present: &[Condition], unjudged: &[Kind]) -> Vec<Change> {
    let mut changes = Vec::new();
    for c in present {
        match active.iter().find(|a| a.key == c.key) {
            Some(a) => changes.push(Change::Update(a.id, c.clone())),
            None => changes.push(Change::Open(c.clone())),
        }
    }
    for a in active {
        if !a.key.kind.evaluated() || unjudged.contains(&a.key.kind) || present.iter().any(|c| c.key == a.key) {
            continue;
        }
        changes.push(match a.state {
            State::Ignored => Change::Close(a.id),
            _ => Change::Resolve(a.id),
        });
    }
    changes
}

/// One incident as an operator event reports it.
#[derive(Debug, Clone, Serialize)]
pub struct Report<'a> {
    /// Incident id.
    pub id: i64,
    /// Its key.
    #[serde(flatten)]
    pub key: &'a Key,
    /// The state it moved to.
    pub state: State,
    /// Count.
    pub count: i64,
    /// Sample ids.
    pub samples: &'a [i64],
    /// One line.
    pub summary: &'a str,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// Who moved it ('' for the evaluator).
    pub by: &'a str,
}

/// The routing key of a transition on the operator exchange: `<kind>.<state>`.
pub fn routing_key(kind: Kind, state: State) -> String {
    format!("{}.{}", kind.as_str(), state.as_str())
}

/// The CloudEvent of one transition (structured mode: the whole envelope is
/// the body). Its id is stable (`<incident>-<transition>`): a consumer that
/// receives it twice (a publish retried after a crash) drops the second.
pub fn operator_event(transition_id: i64, report: &Report<'_>, at: DateTime<Utc>) -> serde_json::Value {
    let subject = match (report.key.tenant.as_str(), report.key.source.as_str()) {
        ("", _) => String::new(),
        (t, "") => t.to_owned(),
        (t, s) => format!("{t}/{s}"),
    };
    serde_json::json!({
        "specversion": "1.0",
        "id": format!("incident-{}-{}", report.id, transition_id),
        "source": "hookgate",
        "type": format!("hookgate.incident.{}", routing_key(report.key.kind, report.state)),
        "subject": subject,
        "time": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "datacontenttype": "application/json",
        "data": report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: Kind, cause: &str) -> Key {
        Key {
            kind,
            tenant: "acme".into(),
            source: "keeta".into(),
            cause: cause.into(),
        }
    }

    fn seen(kind: Kind, cause: &str, count: i64) -> Condition {
        Condition {
            key: key(kind, cause),
            count,
            samples: vec![1, 2],
            summary: "x".into(),
        }
    }

    #[test]
    fn a_storm_is_one_incident_and_recovery_resolves_it() {
        let first = decide(&[], &[seen(Kind::RejectionSpike, "bad_signature", 20)], &[]);
        assert!(matches!(first.as_slice(), [Change::Open(c)] if c.count == 20));
        let active = [Active {
            id: 7,
            key: key(Kind::RejectionSpike, "bad_signature"),
            state: State::Open,
        }];
        let again = decide(&active, &[seen(Kind::RejectionSpike, "bad_signature", 1000)], &[]);
        assert!(matches!(again.as_slice(), [Change::Update(7, c)] if c.count == 1000));
        // Another cause is another incident.
        let other = decide(
            &active,
            &[
                seen(Kind::RejectionSpike, "bad_signature", 1000),
                seen(Kind::RejectionSpike, "malformed", 30),
            ],
            &[],
        );
        assert_eq!(other.len(), 2);
        assert_eq!(decide(&active, &[], &[]), vec![Change::Resolve(7)]);
    }

    #[test]
    fn ignored_closes_silently_and_raised_kinds_wait_for_their_owner() {
        let active = [
            Active {
                id: 1,
                key: key(Kind::SourceQuiet, ""),
                state: State::Ignored,
            },
            Active {
                id: 2,
                key: key(Kind::ReloadRefused, ""),
                state: State::Open,
            },
        ];
        assert_eq!(decide(&active, &[], &[]), vec![Change::Close(1)]);
    }

    #[test]
    fn kinds_a_round_did_not_judge_keep_their_incidents() {
        let active = [Active {
            id: 3,
            key: key(Kind::DependencyDown, "redis"),
            state: State::Open,
        }];
        // An evaluator without dependencies to probe says nothing of them.
        assert_eq!(decide(&active, &[], &[Kind::DependencyDown]), vec![]);
        assert_eq!(decide(&active, &[], &[]), vec![Change::Resolve(3)]);
        assert!(Kind::KeyAdded.notice() && !Kind::KeyAdded.evaluated());
        assert!(!Kind::ReplayFailed.notice() && !Kind::ReplayFailed.evaluated());
    }

    #[test]
    fn operators_move_incidents_forward_only() {
        assert!(State::Open.can_become(State::Acknowledged));
        assert!(State::Acknowledged.can_become(State::Resolved));
        assert!(!State::Resolved.can_become(State::Open));
        assert!(!State::Acknowledged.can_become(State::Open));
        assert!(!State::Ignored.can_become(State::Acknowledged));
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        assert_eq!(routing_key(Kind::SourceQuiet, State::Open), "source_quiet.open");
    }
}
