//! Authentication of a request: the source's network access controls (any
//! kind), then its provider's one inspection of the body; and the answers,
//! shaped by the provider's ack contract (DESIGN.md §4).

mod access;

pub(crate) use crate::reason::Reason;
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use hookgate_config::Source;
use hookgate_providers::{Ack, Headers, Inspected, RefusalReason, RegisteredKey, Request};
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

/// Request headers as the providers read them.
struct HeaderView<'a>(&'a HeaderMap);

impl Headers for HeaderView<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.to_str().ok())
    }
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

impl From<hookgate_providers::Refusal> for Refusal {
    fn from(r: hookgate_providers::Refusal) -> Self {
        let reason = match r.reason {
            RefusalReason::BadRequest => Reason::BadRequest,
            RefusalReason::NotJson => Reason::NotJson,
            RefusalReason::MissingSignature => Reason::MissingSignature,
            RefusalReason::BadSignature => Reason::BadSignature,
            RefusalReason::StaleTimestamp => Reason::StaleTimestamp,
            RefusalReason::AccountMismatch(label) => Reason::AccountMismatch(label),
            RefusalReason::NoVerificationKey => Reason::NoVerificationKey,
        };
        Refusal::new(reason, r.detail)
    }
}

/// What is checked before the body is read: the source's network access
/// controls (IP allowlist, basic auth, header token).
pub(crate) fn admit(source: &Source, facts: &RequestFacts<'_>) -> Result<(), Refusal> {
    access::check(&source.access, facts)
}

/// The provider's one inspection of the body; [`admit`] ran before.
/// `registered` are the keys providers returned at registration.
pub(crate) fn inspect(
    tenant: &str,
    source: &Source,
    facts: &RequestFacts<'_>,
    body: &[u8],
    registered: &[RegisteredKey],
) -> Result<Inspected, Refusal> {
    let headers = HeaderView(facts.headers);
    let request = Request {
        tenant,
        url: facts.request_url,
        headers: &headers,
        now_secs: facts.now_secs,
        registered,
    };
    source.settings.inspect(&request, body).map_err(Refusal::from)
}

/// An HTTP response of an ack.
pub(crate) fn respond(ack: Ack) -> HttpResponse {
    let status = StatusCode::from_u16(ack.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    match ack.content_type {
        Some(ct) => response.content_type(ct).body(ack.body.into_owned()),
        None => response.finish(),
    }
}

/// The success answer of a source.
pub(crate) fn success(source: &Source) -> HttpResponse {
    respond(source.provider().success())
}

/// The failure answer of a source, shaped as its provider expects (a
/// generic JSON shape when no source is known).
pub(crate) fn failure(source: Option<&Source>, status: StatusCode, message: &str) -> HttpResponse {
    let ack = match source {
        Some(s) => s.provider().failure(status.as_u16(), message),
        None => Ack::generic_failure(status.as_u16(), message),
    };
    respond(ack)
}
