//! Pure mapping of provider payloads: the delivery key of a request (used by
//! the ingress before it stores) and the canonical events of a stored
//! notification (used by the dispatcher before it publishes).
//!
//! Architecture invariant: no IO and no clock. Every output is a function of
//! the input bytes and the notification's metadata, so a notification that is
//! normalized twice (a retry after a crash) yields the same events with the
//! same ids.

pub mod keeta;
mod money;
mod value;

pub use money::money_from_minor;

use chrono::{DateTime, Utc};
use hookgate_core::{DeliveryKey, SourceKind};
use hookgate_proto::CanonicalEvent;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A stored notification, as the dispatcher hands it to [`normalize`].
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Tenant id.
    pub tenant: &'a str,
    /// Source id.
    pub source: &'a str,
    /// Source kind (decides the mapping).
    pub kind: SourceKind,
    /// Row id of the notification.
    pub notification_id: i64,
    /// When the notification was committed.
    pub received_at: DateTime<Utc>,
    /// The raw body.
    pub body: &'a [u8],
}

/// Why a request or notification could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    /// The body is not JSON (or not the JSON shape the provider uses).
    #[error("body is not valid JSON: {0}")]
    NotJson(String),
    /// A field the provider always sends is missing or has the wrong type.
    #[error("missing or invalid field `{0}`")]
    MissingField(&'static str),
    /// The payload of a known event could not be parsed.
    #[error("unparseable {event} payload: {detail}")]
    Payload {
        /// Provider event type.
        event: String,
        /// Parser message.
        detail: String,
    },
}

/// The delivery key of a request body: the provider's per-delivery id where it
/// has one, else SHA-256 of the body.
pub fn delivery_key(kind: SourceKind, body: &[u8]) -> Result<DeliveryKey, NormalizeError> {
    match kind {
        SourceKind::Keeta => keeta::Envelope::parse(body).map(|e| e.delivery_key(body)),
    }
}

/// Maps a stored notification to its canonical events (zero or more).
pub fn normalize(input: &Input<'_>) -> Result<Vec<CanonicalEvent>, NormalizeError> {
    match input.kind {
        SourceKind::Keeta => keeta::normalize(input),
    }
}

/// SHA-256 of the body as lowercase hex: the fallback delivery key.
pub fn body_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// The id of the `index`-th event of a notification: a UUIDv7 whose time is
/// the notification's commit time and whose other bits are a hash of
/// (tenant, source, notification id, index). Deterministic, so a republish
/// carries the same id, yet sortable by time like any UUIDv7.
pub fn event_id(input: &Input<'_>, index: u32) -> Uuid {
    let mut h = Sha256::new();
    for part in [input.tenant.as_bytes(), input.source.as_bytes()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.update(input.notification_id.to_be_bytes());
    h.update(index.to_be_bytes());
    let digest = h.finalize();
    let mut rand = [0u8; 10];
    rand.copy_from_slice(&digest[..10]);
    let millis = u64::try_from(input.received_at.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &rand).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_deterministic_v7() {
        let at = DateTime::from_timestamp_millis(1_749_008_143_025).unwrap();
        let input = Input {
            tenant: "demo",
            source: "keeta",
            kind: SourceKind::Keeta,
            notification_id: 7,
            received_at: at,
            body: b"",
        };
        let a = event_id(&input, 0);
        assert_eq!(a, event_id(&input, 0));
        assert_ne!(a, event_id(&input, 1));
        assert_ne!(
            a,
            event_id(
                &Input {
                    notification_id: 8,
                    ..input
                },
                0
            )
        );
        assert_eq!(a.get_version_num(), 7);
        let (secs, _) = a.get_timestamp().unwrap().to_unix();
        assert_eq!(secs, 1_749_008_143);
    }
}
