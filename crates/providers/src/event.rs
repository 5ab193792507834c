//! What every provider's normalization shares: the stored notification as
//! input, the errors, the envelope fields every event carries (ids, keys,
//! bounded types) and the keys PostgreSQL and AMQP can hold.

use chrono::{DateTime, Utc};
use hookgate_core::SourceKind;
use hookgate_proto::v1::{self, event::Data};
use hookgate_proto::{timestamp_from_millis, CanonicalEvent, Timestamp, SPEC_VERSION};
use serde_json::value::RawValue;
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
    /// The delivery key it was stored under.
    pub delivery_key: &'a str,
    /// Per-source options.
    pub options: Options,
}

/// Per-source normalization options (from the source's configuration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Offset from UTC of provider local times without a zone (Pagsmile
    /// issuing), minutes; `None` for kinds without zoneless times (read as
    /// UTC if one appears). Stored with each notification at ingest.
    pub utc_offset_minutes: Option<i32>,
}

impl Options {
    /// These (the source's current) options, with what was stored with a
    /// notification at ingest taking precedence.
    pub fn with_stored(self, utc_offset_minutes: Option<i32>) -> Options {
        Options {
            utc_offset_minutes: utc_offset_minutes.or(self.utc_offset_minutes),
        }
    }
}

/// The parser error under a [`NormalizeError`], shared so that outcomes
/// holding it stay cheap to clone.
pub type Cause = std::sync::Arc<dyn std::error::Error + Send + Sync>;

/// Why a request or notification could not be mapped. The parser's own
/// error is the [`source`](std::error::Error::source), not repeated in the
/// message.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NormalizeError {
    /// The body is not JSON (or not the JSON shape the provider uses).
    #[error("body is not valid JSON")]
    NotJson(#[source] Cause),
    /// A field the provider always sends is missing or has the wrong type.
    #[error("missing or invalid field `{0}`")]
    MissingField(&'static str),
    /// No provider has this kind (a row stored by a newer or older build).
    #[error("unknown source kind {0:?}")]
    UnknownKind(String),
    /// The payload of a known event could not be parsed.
    #[error("unparseable {event} payload")]
    Payload {
        /// Provider event type.
        event: String,
        /// The parser's error.
        #[source]
        cause: Cause,
    },
    /// The payload is encrypted by a scheme hookgate cannot decrypt.
    #[error("encrypted_payload_unsupported: the payload is encrypted (scheme {scheme:?}) and no decryption scheme is configured")]
    Encrypted {
        /// The provider's name of the scheme (Pagsmile `sign_type`).
        scheme: String,
    },
}

impl NormalizeError {
    /// Why a notification that fails this way parks: a metric label.
    pub fn park_reason(&self) -> &'static str {
        match self {
            NormalizeError::NotJson(_) => "not_json",
            NormalizeError::MissingField(_) => "missing_field",
            NormalizeError::UnknownKind(_) => "unknown_kind",
            NormalizeError::Payload { .. } => "unparseable_payload",
            NormalizeError::Encrypted { .. } => "encrypted_payload_unsupported",
        }
    }
}

impl NormalizeError {
    /// The body is not JSON, as `cause` found.
    pub fn not_json(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> NormalizeError {
        NormalizeError::NotJson(Cause::from(cause.into()))
    }

    /// The payload of `event` could not be parsed, as `cause` says.
    pub fn payload(
        event: impl Into<String>,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> NormalizeError {
        NormalizeError::Payload {
            event: event.into(),
            cause: Cause::from(cause.into()),
        }
    }
}

/// The ordering key of a request computed by normalizing it: `tenant:subject`
/// of its (first) event; `None` when the payload does not normalize. Ingress
/// gets the same key from its provider's one inspection; this slower form is
/// the reference the providers' tests and the fuzzer compare it with.
pub fn ordering_key(
    tenant: &str,
    kind: SourceKind,
    body: &[u8],
    delivery_key: &str,
    options: Options,
) -> Option<String> {
    let input = Input {
        tenant,
        source: "",
        kind,
        notification_id: 0,
        received_at: DateTime::<Utc>::UNIX_EPOCH,
        body,
        delivery_key,
        options,
    };
    let events = crate::normalize(&input).ok()?;
    events.first().map(|e| ordering_key_of(tenant, &e.event.subject))
}

/// The ordering key of a subject: `tenant:subject` of the subject as the
/// event carries it ([`bounded_subject`]), storable.
pub fn ordering_key_of(tenant: &str, subject: &str) -> String {
    storable_key(&format!("{tenant}:{}", bounded_subject(subject)))
}

/// Longest subject an event carries as sent. The subject travels in the
/// event and in the `cloudEvents:subject` AMQP header, and every header of
/// a message shares one content-header frame (RabbitMQ's `frame_max`,
/// 131,072 bytes by default): a provider id of 140 KB would make the broker
/// close the whole publishing connection.
pub const MAX_SUBJECT_LEN: usize = 512;

/// A subject of at most [`MAX_SUBJECT_LEN`] bytes without NUL: longer ones
/// keep their first bytes (on a char boundary) and end with `~` and 16 hex
/// digits of their SHA-256, so distinct subjects stay distinct and one
/// subject always bounds to the same text (ordering is kept).
pub fn bounded_subject(subject: &str) -> std::borrow::Cow<'_, str> {
    if subject.len() <= MAX_SUBJECT_LEN && !subject.contains('\0') {
        return std::borrow::Cow::Borrowed(subject);
    }
    let digest = hex::encode(Sha256::digest(subject.as_bytes()));
    let clean: String = subject.chars().filter(|c| *c != '\0').collect();
    let mut cut = MAX_SUBJECT_LEN.saturating_sub(17).min(clean.len());
    while cut > 0 && !clean.is_char_boundary(cut) {
        cut -= 1;
    }
    std::borrow::Cow::Owned(format!("{}~{}", &clean[..cut], &digest[..16]))
}

/// Longest key (ordering key, idempotency key) stored as sent; PostgreSQL
/// btree entries are limited to about 2.7 kB, and keys are compared often.
pub const MAX_KEY_LEN: usize = 200;

/// Longest routing key: an AMQP short string holds at most 255 bytes
/// (AMQP 0-9-1 §4.2.5.3); lapin panics on a longer one.
pub const MAX_ROUTING_KEY_LEN: usize = 255;

/// A key that PostgreSQL text and btree indexes can hold: the key itself when
/// it is short and has no NUL (PostgreSQL text cannot hold one), else
/// `sha256:<hex>` of it. Deterministic, so redeliveries and retries still fold.
pub fn storable_key(key: &str) -> String {
    if key.len() <= MAX_KEY_LEN && !key.contains('\0') {
        key.to_owned()
    } else {
        format!("sha256:{}", hex::encode(Sha256::digest(key.as_bytes())))
    }
}

/// Longest normalization warning kept (a parser message may quote the payload).
pub const MAX_WARNING_LEN: usize = 300;

/// A warning text bounded to [`MAX_WARNING_LEN`] bytes (on a char boundary),
/// without NUL.
pub fn storable_text(text: &str) -> String {
    let mut out: String = text.chars().filter(|c| *c != '\0').collect();
    if out.len() > MAX_WARNING_LEN {
        let mut cut = MAX_WARNING_LEN;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// A type whose routing key (`provider.type`) fits an AMQP short string:
/// longer types keep their first bytes (on a char boundary) and end with
/// `~` and 16 hex digits of their SHA-256, so distinct types stay distinct.
fn bounded_type(provider: &str, kind: String) -> String {
    let room = MAX_ROUTING_KEY_LEN.saturating_sub(provider.len() + 1);
    if kind.len() <= room {
        return kind;
    }
    let digest = hex::encode(Sha256::digest(kind.as_bytes()));
    let mut cut = room.saturating_sub(17);
    while cut > 0 && !kind.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}~{}", &kind[..cut], &digest[..16])
}

/// A time a protobuf `Timestamp` can carry (see
/// [`hookgate_proto::TIMESTAMP_SECONDS`]); anything else cannot be encoded.
fn encodable(t: &Timestamp) -> bool {
    hookgate_proto::TIMESTAMP_SECONDS.contains(&t.seconds) && (0..1_000_000_000).contains(&t.nanos)
}

/// What a provider module decides about one event; [`Mapped::into_event`]
/// adds the envelope fields every event shares.
#[derive(Debug)]
pub(crate) struct Mapped {
    /// Canonical type without the provider.
    pub kind: String,
    /// The provider's name for the event.
    pub provider_event_type: String,
    /// Subject (per-subject ordering).
    pub subject: String,
    /// Business idempotency key.
    pub idempotency_key: String,
    /// When it happened, if the payload says.
    pub occurred_at: Option<Timestamp>,
    /// Typed data.
    pub data: Option<Data>,
}

impl Mapped {
    /// The `index`-th event of `input`, with `raw` as the payload.
    pub(crate) fn into_event(
        self,
        input: &Input<'_>,
        provider: &str,
        index: u32,
        raw: Box<RawValue>,
    ) -> CanonicalEvent {
        // The commit time is always within a Timestamp's range.
        let received_at = timestamp_from_millis(input.received_at.timestamp_millis()).unwrap_or_default();
        // Payload text reaches AMQP short strings, PostgreSQL text and btree
        // keys: bound and escape it here, once, for every provider.
        let kind = bounded_type(provider, self.kind);
        let occurred_at = self.occurred_at.filter(encodable).unwrap_or(received_at);
        let event = v1::Event {
            id: event_id(input, index).to_string(),
            spec_version: SPEC_VERSION.to_owned(),
            tenant: input.tenant.to_owned(),
            source: input.source.to_owned(),
            provider: provider.to_owned(),
            r#type: kind,
            provider_event_type: self.provider_event_type,
            subject: bounded_subject(&self.subject).into_owned(),
            occurred_at: Some(occurred_at),
            received_at: Some(received_at),
            idempotency_key: storable_key(&self.idempotency_key),
            notification_id: input.notification_id,
            delivery_key: input.delivery_key.to_owned(),
            data: self.data,
            raw: None,
            warnings: Vec::new(),
            provider_utc_offset: None,
            // Judged by the relay against what its subject already published.
            stale: false,
            stale_behind: None,
        };
        CanonicalEvent { event, raw }
    }
}

/// The body as `raw` when it is JSON, else as a JSON string.
pub(crate) fn raw_body(body: &[u8]) -> Result<Box<RawValue>, NormalizeError> {
    let text = std::str::from_utf8(body).map_err(NormalizeError::not_json)?;
    RawValue::from_string(text.trim().to_owned()).map_err(NormalizeError::not_json)
}

/// Parses a JSON body into `T`, mapping errors to [`NormalizeError::NotJson`].
pub(crate) fn parse_body<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> Result<T, NormalizeError> {
    serde_json::from_slice(body).map_err(NormalizeError::not_json)
}

/// Reads a JSON body into `T` leniently (see [`crate::lenient`]): values
/// that do not fit are left out with a warning; not JSON is
/// [`NormalizeError::NotJson`].
pub(crate) fn parse_lenient<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, NormalizeError> {
    let text = std::str::from_utf8(body).map_err(NormalizeError::not_json)?;
    crate::lenient::parse(text).map_err(NormalizeError::not_json)
}

/// A lowercase, dotted-type-safe form of a provider word (`PARTIAL_REFUNDED` → `partial_refunded`).
pub(crate) fn type_word(s: &str) -> String {
    let w: String = s
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if w.is_empty() {
        "unknown".to_owned()
    } else {
        w
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
            kind: crate::keeta::KIND,
            notification_id: 7,
            received_at: at,
            body: b"",
            delivery_key: "k",
            options: Options::default(),
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
