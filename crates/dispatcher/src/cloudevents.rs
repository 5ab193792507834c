//! The CloudEvents AMQP protocol binding, binary mode: a canonical event's
//! attributes as `cloudEvents:`-prefixed application properties
//! (<https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/amqp-protocol-binding.md>).
//! The body is the event's JSON; the AMQP `message-id` is the event id.

use hookgate_proto::CanonicalEvent;
use std::collections::BTreeMap;

/// The application properties of `event`, published under `event_type`
/// (its routing key, also the CloudEvents `type`).
pub fn properties(event: &CanonicalEvent, event_type: &str) -> BTreeMap<String, String> {
    let e = &event.event;
    let mut headers = BTreeMap::new();
    headers.insert("cloudEvents:specversion".to_owned(), "1.0".to_owned());
    headers.insert("cloudEvents:id".to_owned(), e.id.clone());
    headers.insert(
        "cloudEvents:source".to_owned(),
        format!("/hookgate/{}/{}", e.tenant, e.source),
    );
    headers.insert("cloudEvents:type".to_owned(), event_type.to_owned());
    headers.insert("cloudEvents:subject".to_owned(), e.subject.clone());
    if let Some(t) = e.occurred_at.as_ref().or(e.received_at.as_ref()) {
        if let Some(time) = chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32) {
            headers.insert(
                "cloudEvents:time".to_owned(),
                time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            );
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;

    #[test]
    fn required_attributes_are_prefixed_properties() {
        let event = CanonicalEvent {
            event: hookgate_proto::v1::Event {
                id: "0190c8a1-0000-7000-8000-000000000000".into(),
                tenant: "acme".into(),
                source: "orders".into(),
                subject: "order/1".into(),
                occurred_at: hookgate_proto::timestamp_from_millis(1_700_000_000_005),
                ..Default::default()
            },
            raw: serde_json::value::RawValue::from_string("{}".into()).unwrap(),
        };
        let p = properties(&event, "acme.order.accepted");
        assert_eq!(p["cloudEvents:specversion"], "1.0");
        assert_eq!(p["cloudEvents:id"], event.event.id);
        assert_eq!(p["cloudEvents:source"], "/hookgate/acme/orders");
        assert_eq!(p["cloudEvents:type"], "acme.order.accepted");
        assert_eq!(p["cloudEvents:subject"], "order/1");
        assert_eq!(p["cloudEvents:time"], "2023-11-14T22:13:20.005Z");
    }
}
