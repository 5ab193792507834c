//! Standard Webhooks: the payload convention `{type, timestamp, data}`; the
//! event type becomes the routing key (`webhooks.<type>`), the `webhook-id`
//! (the delivery key) the idempotency key.

use crate::{parse_lenient, raw_body, Input, Mapped, NormalizeError};
use hookgate_proto::CanonicalEvent;
use serde::Deserialize;
use serde_json::Value;

/// Provider name: first segment of routing keys.
pub const PROVIDER: &str = "webhooks";

#[derive(Deserialize)]
struct Body {
    #[serde(rename = "type")]
    kind: Option<String>,
    timestamp: Option<String>,
    data: Option<Value>,
}

/// A routing-key-safe dotted type: lowercase `[a-z0-9_-]` segments.
fn dotted(kind: &str) -> String {
    let segments: Vec<String> = kind
        .split('.')
        .map(|seg| {
            seg.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .collect();
    if segments.is_empty() {
        "unknown".to_owned()
    } else {
        segments.join(".")
    }
}

/// The subject of a payload: `<first type segment>/<data.id>`, else
/// `message/<delivery key>`.
fn subject_of(b: &Body, kind: &str, delivery_key: &str) -> String {
    b.data
        .as_ref()
        .and_then(|d| d.get("id"))
        .map(|id| match id {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .map(|id| format!("{}/{id}", kind.split('.').next().unwrap_or("object")))
        .unwrap_or_else(|| format!("message/{delivery_key}"))
}

fn kind_of(b: &Body) -> String {
    b.kind.as_deref().map(dotted).unwrap_or_else(|| "unknown".to_owned())
}

/// What ingress needs of a body, from one parse: `NotJson` when it is not
/// JSON, a payload error when it is JSON but not an event object (the
/// specification's payload structure: an object with a `type`; `true`,
/// `[1,2]`, `"str"`, `null` and `{}` are not events), else the subject.
/// <https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#payload-structure>
pub fn subject(body: &[u8], delivery_key: &str) -> Result<Option<String>, NormalizeError> {
    const NOT_AN_EVENT: &str = "not an event object: a JSON object with a string \"type\" is required";
    match parse_lenient::<Body>(body) {
        Ok(b) if b.kind.as_deref().is_some_and(|k| !k.trim().is_empty()) => {
            Ok(Some(subject_of(&b, &kind_of(&b), delivery_key)))
        }
        Ok(_) => Err(NormalizeError::payload("event", NOT_AN_EVENT)),
        Err(e) => match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => Err(NormalizeError::payload("event", NOT_AN_EVENT)),
            Err(_) => Err(e),
        },
    }
}

/// One event per request, typed only by its `type`; `raw` carries the payload.
pub fn normalize(input: &Input<'_>) -> Result<Vec<CanonicalEvent>, NormalizeError> {
    let b: Body = parse_lenient(input.body)?;
    let kind = kind_of(&b);
    let subject = subject_of(&b, &kind, input.delivery_key);
    let occurred_at = b
        .timestamp
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .and_then(|t| hookgate_proto::timestamp_from_millis(t.timestamp_millis()));
    let mapped = Mapped {
        provider_event_type: b.kind.clone().unwrap_or_default(),
        kind,
        subject,
        idempotency_key: format!("webhooks:{}", input.delivery_key),
        occurred_at,
        data: None,
    };
    Ok(vec![mapped.into_event(input, PROVIDER, 0, raw_body(input.body)?)])
}

#[cfg(test)]
mod tests {
    #[test]
    fn types_become_safe_routing_segments() {
        assert_eq!(super::dotted("invoice.paid"), "invoice.paid");
        assert_eq!(super::dotted("User.Created#v2"), "user.created_v2");
        assert_eq!(super::dotted("a..b*"), "a.b_");
        assert_eq!(super::dotted(""), "unknown");
    }
}
