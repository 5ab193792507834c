//! Canonical event wire types, generated from `proto/hookgate/v1/*.proto`.
//!
//! The structs come from prost, their serde impls from pbjson (the proto3 JSON
//! mapping: 64-bit integers as strings, RFC 3339 timestamps). [`CanonicalEvent`]
//! pairs a generated [`v1::Event`] with the provider payload kept as exact JSON
//! text, so ids beyond 2^53 and decimal amounts never pass through `f64`.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Generated types of package `hookgate.v1`.
#[allow(clippy::all, missing_docs, missing_debug_implementations)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/hookgate.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/hookgate.v1.serde.rs"));
}

pub use pbjson_types::Timestamp;

/// Version written into [`v1::Event::spec_version`].
pub const SPEC_VERSION: &str = "1.2";

/// A canonical event ready to publish: the generated envelope and typed data,
/// plus the provider payload as exact JSON text (the `raw` field on the wire).
#[derive(Debug, Clone)]
pub struct CanonicalEvent {
    /// Envelope and typed data; its `raw` field is left empty (see `raw`).
    pub event: v1::Event,
    /// The provider payload, parsed and re-emitted byte-exact.
    pub raw: Box<RawValue>,
}

#[derive(Serialize)]
struct Wire<'a> {
    #[serde(flatten)]
    event: &'a v1::Event,
    raw: &'a RawValue,
}

impl CanonicalEvent {
    /// The AMQP routing key: `<provider>.<type>`, e.g. `keeta.order.accepted`.
    pub fn routing_key(&self) -> String {
        format!("{}.{}", self.event.provider, self.event.r#type)
    }

    /// Reads a published message body (what [`CanonicalEvent::to_json`]
    /// wrote): the typed event, and `raw` kept as exact JSON text. Fields
    /// this version does not know are skipped, so a consumer built against
    /// 1.x reads every 1.y.
    pub fn from_json(body: &[u8]) -> Result<CanonicalEvent, serde_json::Error> {
        #[derive(Deserialize)]
        struct RawOnly<'a> {
            #[serde(borrow)]
            raw: Option<&'a RawValue>,
        }
        let raw = match serde_json::from_slice::<RawOnly<'_>>(body)?.raw {
            Some(r) => r.to_owned(),
            None => RawValue::from_string("null".to_owned())?,
        };
        let mut event: v1::Event = serde_json::from_slice(body)?;
        event.raw = None;
        Ok(CanonicalEvent { event, raw })
    }

    /// Serialises to the proto3 JSON mapping, with `raw` spliced in verbatim.
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(&Wire {
            event: &self.event,
            raw: &self.raw,
        })
    }
}

/// Earliest and latest seconds a protobuf `Timestamp` may hold:
/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z
/// (google/protobuf/timestamp.proto); outside them the proto3 JSON mapping
/// has no encoding.
pub const TIMESTAMP_SECONDS: std::ops::RangeInclusive<i64> = -62_135_596_800..=253_402_300_799;

/// Converts Unix milliseconds to a protobuf timestamp; `None` when a
/// `Timestamp` cannot hold it (a provider's nonsense must not make the event
/// unencodable: the field is left out instead).
pub fn timestamp_from_millis(ms: i64) -> Option<Timestamp> {
    let seconds = ms.div_euclid(1000);
    TIMESTAMP_SECONDS.contains(&seconds).then(|| Timestamp {
        seconds,
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    })
}

/// Converts Unix seconds to a protobuf timestamp; `None` when out of range.
pub fn timestamp_from_secs(secs: i64) -> Option<Timestamp> {
    TIMESTAMP_SECONDS.contains(&secs).then_some(Timestamp {
        seconds: secs,
        nanos: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_uses_proto3_mapping_and_keeps_raw_exact() -> Result<(), Box<dyn std::error::Error>> {
        let event = v1::Event {
            id: "0190".into(),
            r#type: "order.accepted".into(),
            provider: "keeta".into(),
            notification_id: 9_007_199_254_740_993,
            occurred_at: timestamp_from_millis(1_749_008_143_025),
            data: Some(v1::event::Data::OrderStatus(v1::OrderStatusChange {
                order_view_id: 553_440_887_574_627,
                status: 30,
                ..Default::default()
            })),
            ..Default::default()
        };
        let raw = RawValue::from_string(r#"{"orderId":473130522693193728123,"amount":1000.00}"#.into())?;
        let json = String::from_utf8(CanonicalEvent { event, raw }.to_json()?)?;
        assert!(json.contains(r#""notificationId":"9007199254740993""#), "{json}");
        assert!(json.contains(r#""orderViewId":"553440887574627""#), "{json}");
        assert!(
            json.contains(r#""occurredAt":"2025-06-04T03:35:43.025+00:00""#),
            "{json}"
        );
        assert!(
            json.contains(r#""raw":{"orderId":473130522693193728123,"amount":1000.00}"#),
            "{json}"
        );
        Ok(())
    }

    #[test]
    fn a_body_reads_back_exactly_and_unknown_fields_are_skipped() -> Result<(), Box<dyn std::error::Error>> {
        let event = v1::Event {
            id: "0190".into(),
            notification_id: 9_007_199_254_740_993,
            stale: true,
            data: Some(v1::event::Data::OrderStatus(v1::OrderStatusChange {
                order_view_id: 553_440_887_574_627,
                status: 30,
                ..Default::default()
            })),
            ..Default::default()
        };
        let raw = RawValue::from_string(r#"{"orderId":473130522693193728123}"#.into())?;
        let body = CanonicalEvent {
            event: event.clone(),
            raw,
        }
        .to_json()?;
        let back = CanonicalEvent::from_json(&body)?;
        assert_eq!(back.event, event);
        assert_eq!(back.raw.get(), r#"{"orderId":473130522693193728123}"#);
        // A later minor version's field: skipped.
        let later = br#"{"id":"0190","specVersion":"1.1","someNewField":{"x":1},"raw":{}}"#;
        assert_eq!(CanonicalEvent::from_json(later)?.event.spec_version, "1.1");
        assert!(CanonicalEvent::from_json(b"[1]").is_err());
        Ok(())
    }

    #[test]
    fn timestamps_out_of_the_proto_range_are_none() {
        assert_eq!(timestamp_from_secs(99_999_999_999_999), None);
        assert_eq!(timestamp_from_millis(i64::MIN), None);
        assert_eq!(
            timestamp_from_millis(1_500).map(|t| (t.seconds, t.nanos)),
            Some((1, 500_000_000))
        );
        assert!(timestamp_from_secs(253_402_300_799).is_some());
    }

    #[test]
    fn routing_key_joins_provider_and_type() {
        let event = v1::Event {
            provider: "keeta".into(),
            r#type: "order.cancelled".into(),
            ..Default::default()
        };
        let raw = RawValue::from_string("{}".into()).unwrap();
        assert_eq!(CanonicalEvent { event, raw }.routing_key(), "keeta.order.cancelled");
    }
}
