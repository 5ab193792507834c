//! Per-kind behaviour: heartbeat detection, authentication and the ack
//! contract (the exact success and failure bodies each provider expects).

mod keeta;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use hookgate_config::{Source, SourceAuth};
use hookgate_core::{DeliveryKey, SignatureCheck, SourceKind};

/// What the verifier needs to know about the request besides the body.
#[derive(Debug)]
pub(crate) struct RequestFacts<'a> {
    /// The URL the request arrived at (`scheme://host/path?query`).
    pub request_url: &'a str,
}

/// A request that authenticated.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub delivery_key: DeliveryKey,
    pub check: SignatureCheck,
}

/// Why a request is refused: status, metric reason and a detail for the caller.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub reason: &'static str,
    pub detail: String,
}

impl Refusal {
    pub(crate) fn new(status: StatusCode, reason: &'static str, detail: impl Into<String>) -> Self {
        Refusal {
            status,
            reason,
            detail: detail.into(),
        }
    }
}

/// True when the body is the provider's heartbeat (answered, never stored).
pub(crate) fn is_heartbeat(source: &Source, body: &[u8]) -> bool {
    match source.kind {
        SourceKind::Keeta => keeta::is_heartbeat(body),
    }
}

/// Authenticates a request and derives its delivery key.
pub(crate) fn authenticate(source: &Source, facts: &RequestFacts<'_>, body: &[u8]) -> Result<Accepted, Refusal> {
    match &source.auth {
        SourceAuth::Keeta(cfg) => keeta::authenticate(cfg, facts, body),
    }
}

/// The success answer of a kind.
pub(crate) fn success(kind: SourceKind) -> HttpResponse {
    match kind {
        SourceKind::Keeta => keeta::success(),
    }
}

/// The failure answer of a kind, shaped as that provider expects.
pub(crate) fn failure(kind: Option<SourceKind>, status: StatusCode, message: &str) -> HttpResponse {
    match kind {
        Some(SourceKind::Keeta) | None => keeta::failure(status, message),
    }
}
