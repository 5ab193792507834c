//! Why one row could not be published, and what the relay does about it.
//! Every failure belongs to its row alone: a retryable one waits with
//! backoff (and holds back its subject), a permanent one parks at once (and
//! holds back nothing). The cause is kept; the stored `last_error` is the
//! failure with its causes.

use crate::AmqpError;
use hookgate_providers::NormalizeError;
use std::sync::Arc;

/// What the relay does with a failed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// May succeed later (broker, configuration): retry with backoff, park
    /// after `max_attempts`.
    Retry,
    /// Will fail the same way every time (the row's own content): park now.
    Park,
}

/// Why one row failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RowFailure {
    /// Claimed more often than `max_attempts` without an outcome: the relay
    /// died (crash, kill, panic) while holding it each time.
    #[error("claimed {0} times without an outcome: the relay stopped while handling it")]
    Abandoned(i32),
    /// No provider knows the stored kind.
    #[error("unknown source kind {0:?}")]
    UnknownKind(String),
    /// The verified payload does not normalize.
    #[error("normalize")]
    Normalize(#[source] NormalizeError),
    /// The tenant is not (or no longer) configured; a reload may bring it back.
    #[error("tenant {0} is not configured")]
    UnknownTenant(hookgate_core::TenantId),
    /// The event does not encode.
    #[error("encode event")]
    Encode(#[source] Arc<serde_json::Error>),
    /// The event cannot be expressed in AMQP (it was not sent).
    #[error("unpublishable event")]
    Unpublishable(#[source] Arc<AmqpError>),
    /// An event's state comes before one its subject already published, and
    /// the source's `stale_policy` is `park`.
    #[error("stale: its subject already reached {behind}")]
    Stale {
        /// The state (routing key) the subject had reached.
        behind: String,
    },
    /// The broker did not confirm the event.
    #[error("publish {routing_key:?}")]
    Publish {
        /// Routing key of the event.
        routing_key: String,
        /// What the broker or connection said.
        #[source]
        cause: Arc<AmqpError>,
    },
}

impl RowFailure {
    /// Retry or park.
    pub fn disposition(&self) -> Disposition {
        match self {
            RowFailure::UnknownTenant(_) | RowFailure::Publish { .. } => Disposition::Retry,
            RowFailure::Abandoned(_)
            | RowFailure::UnknownKind(_)
            | RowFailure::Normalize(_)
            | RowFailure::Encode(_)
            | RowFailure::Unpublishable(_)
            | RowFailure::Stale { .. } => Disposition::Park,
        }
    }

    /// Why, as a metric label (`hookgate_parked_reasons_total`).
    pub fn reason(&self) -> &'static str {
        match self {
            RowFailure::Abandoned(_) => "abandoned",
            RowFailure::UnknownKind(_) => "unknown_kind",
            RowFailure::Normalize(e) => e.park_reason(),
            RowFailure::UnknownTenant(_) => "unknown_tenant",
            RowFailure::Encode(_) => "unencodable",
            RowFailure::Unpublishable(_) => "unpublishable",
            RowFailure::Stale { .. } => "stale",
            RowFailure::Publish { .. } => "publish_failed",
        }
    }

    /// The failure and its causes, as stored in the outbox's `last_error`
    /// (shown to the `read` scope): values a payload parser quoted are left
    /// out, the field and the problem are named.
    pub fn message(&self) -> String {
        let text = hookgate_core::Chain(self).to_string();
        match self {
            RowFailure::Normalize(_) => hookgate_core::without_values(&text),
            _ => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_errors_name_the_field_and_problem_never_the_value() {
        // What a parser says of a card number where a struct was expected.
        let serde = serde_json::from_str::<std::collections::BTreeMap<String, i64>>(r#"{"pan": "4111111111111111"}"#)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(serde.contains("4111111111111111"), "{serde}");
        let failure = RowFailure::Normalize(NormalizeError::payload("1002", serde));
        let message = failure.message();
        assert!(!message.contains("4111"), "{message}");
        assert!(
            message.starts_with("normalize: unparseable 1002 payload: invalid type: string"),
            "{message}"
        );
        let unpublishable = RowFailure::Unpublishable(Arc::new(AmqpError::TooLarge {
            what: "a header value",
            len: 140_000,
            max: 4096,
        }));
        assert_eq!(unpublishable.disposition(), Disposition::Park);
        assert!(AmqpError::TooLarge {
            what: "the body",
            len: 1,
            max: 0
        }
        .is_permanent());
        assert!(!AmqpError::Nacked.is_permanent() && !AmqpError::NotSent.is_permanent());
    }

    #[test]
    fn only_what_may_change_is_retried() {
        let publish = RowFailure::Publish {
            routing_key: "acme.order.accepted".into(),
            cause: Arc::new(AmqpError::Nacked),
        };
        assert_eq!(publish.disposition(), Disposition::Retry);
        let tenant = hookgate_core::TenantId::parse("t").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(RowFailure::UnknownTenant(tenant).disposition(), Disposition::Retry);
        assert_eq!(RowFailure::Abandoned(9).disposition(), Disposition::Park);
        let normalize = RowFailure::Normalize(NormalizeError::payload("1002", "missing id"));
        assert_eq!(normalize.disposition(), Disposition::Park);
        assert_eq!(normalize.message(), "normalize: unparseable 1002 payload: missing id");
        assert_eq!(
            publish.message(),
            "publish \"acme.order.accepted\": broker nacked the message"
        );
    }
}
