//! Per-kind behaviour: heartbeat detection, authentication (access controls,
//! then the provider's signature) and the ack contract (the exact success and
//! failure answers each provider expects, DESIGN.md §4).

mod access;
mod ack;
mod verify;

use crate::keyring::RegisteredKey;
pub(crate) use crate::reason::Reason;
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use hookgate_config::{Source, Verification};
use hookgate_core::{DeliveryKey, SignatureCheck, SourceKind};
use std::net::IpAddr;

/// What authentication needs to know about the request besides the body.
#[derive(Debug)]
pub(crate) struct RequestFacts<'a> {
    /// The URL the request arrived at (`scheme://host/path?query`).
    pub request_url: &'a str,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// TCP peer address.
    pub peer: Option<IpAddr>,
    /// Now, Unix seconds (timestamp tolerances).
    pub now_secs: i64,
}

impl RequestFacts<'_> {
    /// A header as text (names are case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A request that authenticated.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub delivery_key: DeliveryKey,
    pub check: SignatureCheck,
}

/// Why a request is refused: the reason (which decides the status and the
/// metric label) and a detail for the caller.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub reason: Reason,
    pub detail: String,
}

impl Refusal {
    pub(crate) fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Refusal {
            reason,
            detail: detail.into(),
        }
    }

    /// The status answered.
    pub(crate) fn status(&self) -> StatusCode {
        self.reason.status()
    }
}

impl Accepted {
    /// True when the signature was not verified (observe mode let it through).
    pub(crate) fn is_observed(&self) -> bool {
        matches!(self.check, SignatureCheck::Observed { .. })
    }
}

/// A signature that did not verify: metric reason and detail.
#[derive(Debug)]
pub(crate) struct SignatureFailure {
    pub reason: Reason,
    pub detail: String,
}

/// True when the body is the provider's heartbeat (answered, never stored).
pub(crate) fn is_heartbeat(source: &Source, body: &[u8]) -> bool {
    source.kind == SourceKind::Keeta && hookgate_providers::keeta::is_heartbeat(body)
}

/// What is checked before the body is read: the source's network access
/// controls (IP allowlist, basic auth, header token).
pub(crate) fn admit(source: &Source, facts: &RequestFacts<'_>) -> Result<(), Refusal> {
    access::check(&source.access, facts)
}

/// The delivery key and the provider signature; [`admit`] ran before.
/// Where the credentials are headers (Standard Webhooks: `webhook-id` is
/// both), the signature comes first, so a request without them is a 401.
/// `registered` are the keys providers returned at registration (BH).
pub(crate) fn authenticate(
    source: &Source,
    facts: &RequestFacts<'_>,
    body: &[u8],
    registered: &[RegisteredKey],
) -> Result<Accepted, Refusal> {
    let header = |name: &str| facts.header(name).map(str::to_owned);
    let key = || {
        hookgate_providers::delivery_key(source.kind, body, &header)
            .map_err(|e| Refusal::new(Reason::BadRequest, e.to_string()))
    };
    let early_key = if source.kind == SourceKind::StandardWebhooks {
        None
    } else {
        Some(key()?)
    };
    let check = match verify::signature(source, facts, body, registered) {
        Ok(check) => check,
        Err(f) if source.verification == Verification::Observe => SignatureCheck::Observed { reason: f.detail },
        Err(f) => return Err(Refusal::new(f.reason, f.detail)),
    };
    // Standard Webhooks payloads are JSON by the specification
    // (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#payload-structure).
    if source.kind == SourceKind::StandardWebhooks && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
        return Err(Refusal::new(Reason::NotJson, "the payload is not JSON"));
    }
    let delivery_key = match early_key {
        Some(k) => k,
        None => key()?,
    };
    Ok(Accepted { delivery_key, check })
}

/// The success answer of a kind.
pub(crate) fn success(kind: SourceKind) -> HttpResponse {
    ack::success(kind)
}

/// The failure answer of a kind, shaped as that provider expects.
pub(crate) fn failure(kind: Option<SourceKind>, status: StatusCode, message: &str) -> HttpResponse {
    ack::failure(kind, status, message)
}
