//! The inspection of one request by its source's provider, and the trust
//! types it produces: an [`Authenticated`] delivery can be made only here, by
//! a provider whose verification passed; a delivery whose signature failed is
//! [`Unverified`], which a source in observe mode may still store, flagged.

use hookgate_core::{DeliveryKey, SignatureCheck};
use hookgate_signature::rsa::PublicKey;
use std::borrow::Cow;

/// Request headers, looked up by lowercase name.
pub trait Headers {
    /// The value of a header as text, if present and text.
    fn get(&self, name: &str) -> Option<&str>;
}

impl Headers for [(&str, &str)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }
}

impl Headers for Vec<(String, String)> {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A verification key a provider handed out at registration.
#[derive(Debug, Clone)]
pub struct RegisteredKey {
    /// Fingerprint recorded with the deliveries it verified.
    pub fingerprint: String,
    /// The key.
    pub key: PublicKey,
}

/// What a provider needs of a request besides its body.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    /// Tenant id (the ordering key is scoped by it).
    pub tenant: &'a str,
    /// The URL the request arrived at (`scheme://host/path?query`).
    pub url: &'a str,
    /// Request headers.
    pub headers: &'a dyn Headers,
    /// Now, Unix seconds (timestamp tolerances).
    pub now_secs: i64,
    /// Keys registered with the provider (see `SourceSettings::uses_registered_keys`).
    pub registered: &'a [RegisteredKey],
}

impl std::fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("tenant", &self.tenant)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Request<'_> {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }
}

/// What ingress stores of a delivery besides the raw request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The provider's per-delivery id, or the body hash.
    pub delivery_key: DeliveryKey,
    /// `tenant:subject` of its first event, for per-subject ordering; `None`
    /// when the payload will not normalize (it parks and holds nothing back).
    pub ordering_key: Option<String>,
}

/// The outcome of a successful inspection.
#[derive(Debug)]
pub enum Inspected {
    /// The provider's keep-alive: answered with success, never stored.
    Heartbeat,
    /// A delivery whose authentication passed.
    Authenticated(Authenticated<Delivery>),
    /// A well-formed delivery whose signature did not verify: refused with
    /// `failure`, unless the source observes (then stored, flagged).
    Unverified {
        /// The delivery, for a source in observe mode.
        delivery: Unverified<Delivery>,
        /// Why it did not verify.
        failure: Refusal,
    },
}

/// A value whose request authenticated. Only this crate makes one.
#[derive(Debug, Clone)]
pub struct Authenticated<T> {
    value: T,
    check: SignatureCheck,
}

/// A value whose request did not authenticate (observe mode). Only this
/// crate makes one.
#[derive(Debug, Clone)]
pub struct Unverified<T> {
    value: T,
    reason: String,
}

impl<T> Authenticated<T> {
    pub(crate) fn new(value: T, check: SignatureCheck) -> Self {
        Authenticated { value, check }
    }

    /// The value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// How it authenticated.
    pub fn check(&self) -> &SignatureCheck {
        &self.check
    }

    /// The same authentication for a value built from this one.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Authenticated<U> {
        Authenticated {
            value: f(self.value),
            check: self.check,
        }
    }
}

impl<T> Unverified<T> {
    pub(crate) fn new(value: T, reason: impl Into<String>) -> Self {
        Unverified {
            value,
            reason: reason.into(),
        }
    }

    /// The value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The same failed authentication for a value built from this one.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Unverified<U> {
        Unverified {
            value: f(self.value),
            reason: self.reason,
        }
    }
}

/// A notification admitted for storage: authenticated, or accepted
/// unverified by a source in observe mode. The group-commit writer takes
/// nothing else.
#[derive(Debug, Clone)]
pub enum Admitted<T> {
    /// Authenticated.
    Authenticated(Authenticated<T>),
    /// Observe mode: stored although its signature did not verify.
    Observed(Unverified<T>),
}

impl<T> Admitted<T> {
    /// The value.
    pub fn value(&self) -> &T {
        match self {
            Admitted::Authenticated(a) => &a.value,
            Admitted::Observed(u) => &u.value,
        }
    }

    /// An admission a durable journal recorded (ingress's spool, which
    /// writes only what was an `Admitted`, with its [`check`](Self::check)),
    /// read back after the process or the database came back. Nothing
    /// else may call it: it is the one way to an `Admitted` outside this
    /// crate, and the architecture test names its only caller.
    pub fn restore_journaled(value: T, check: SignatureCheck) -> Admitted<T> {
        match check {
            SignatureCheck::Observed { reason } => Admitted::Observed(Unverified { value, reason }),
            check => Admitted::Authenticated(Authenticated { value, check }),
        }
    }

    /// How its signature was checked (what the row records).
    pub fn check(&self) -> SignatureCheck {
        match self {
            Admitted::Authenticated(a) => a.check.clone(),
            Admitted::Observed(u) => SignatureCheck::Observed {
                reason: u.reason.clone(),
            },
        }
    }
}

/// Why a provider refuses a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    /// The body lacks what every delivery of the kind carries.
    BadRequest,
    /// The body is not JSON where the kind requires it.
    NotJson,
    /// The credential is absent.
    MissingSignature,
    /// The credential does not verify.
    BadSignature,
    /// The signed timestamp is outside the tolerance.
    StaleTimestamp,
    /// The delivery names another account than the source's (the label,
    /// e.g. `app_id_mismatch`).
    AccountMismatch(&'static str),
    /// The source has no key to verify the provider's signature with (a
    /// configuration to fix, not a bad signature).
    NoVerificationKey,
}

/// A refusal: its reason and a detail for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Why.
    pub reason: RefusalReason,
    /// Detail for the caller and the rejection record.
    pub detail: String,
}

impl Refusal {
    /// A refusal for `reason`.
    pub fn new(reason: RefusalReason, detail: impl ToString) -> Self {
        Refusal {
            reason,
            detail: detail.to_string(),
        }
    }

    /// A refusal for `reason` whose detail is `error` and its causes.
    pub fn from_error(reason: RefusalReason, error: &(dyn std::error::Error + 'static)) -> Self {
        // The detail is stored and shown to the `read` scope: no payload values.
        Refusal::new(
            reason,
            hookgate_core::without_values(&hookgate_core::Chain(error).to_string()),
        )
    }

    /// `missing_signature` when the credential is absent, `bad_signature` otherwise.
    pub(crate) fn signature(missing: bool, detail: impl ToString) -> Self {
        let reason = if missing {
            RefusalReason::MissingSignature
        } else {
            RefusalReason::BadSignature
        };
        Refusal::new(reason, detail)
    }
}

/// An answer to the provider, as plain data (ingress makes it HTTP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// HTTP status.
    pub status: u16,
    /// Content type; `None` with an empty body.
    pub content_type: Option<&'static str>,
    /// Body.
    pub body: Cow<'static, str>,
}

impl Ack {
    /// A JSON answer.
    pub fn json(status: u16, body: impl Into<Cow<'static, str>>) -> Ack {
        Ack {
            status,
            content_type: Some("application/json"),
            body: body.into(),
        }
    }

    /// A text/plain answer.
    pub fn text(status: u16, body: impl Into<Cow<'static, str>>) -> Ack {
        Ack {
            status,
            content_type: Some("text/plain; charset=utf-8"),
            body: body.into(),
        }
    }

    /// An empty answer.
    pub fn empty(status: u16) -> Ack {
        Ack {
            status,
            content_type: None,
            body: Cow::Borrowed(""),
        }
    }

    /// The answer when no source is known: `{"code":status,"message":..}`.
    pub fn generic_failure(status: u16, message: &str) -> Ack {
        Ack::json(
            status,
            serde_json::json!({ "code": status, "message": message }).to_string(),
        )
    }
}

/// Names the matched secret when a rotation window holds several.
pub(crate) fn matched(recipe: &str, index: usize, of: usize) -> SignatureCheck {
    let recipe = if of > 1 {
        format!("{recipe}#secret{index}")
    } else {
        recipe.to_owned()
    };
    SignatureCheck::Matched { recipe }
}

/// The usual end of an inspection: the delivery, authenticated or not.
pub(crate) fn conclude(delivery: Delivery, signature: Result<SignatureCheck, Refusal>) -> Inspected {
    match signature {
        Ok(check) => Inspected::Authenticated(Authenticated::new(delivery, check)),
        Err(failure) => Inspected::Unverified {
            delivery: Unverified::new(delivery, failure.detail.clone()),
            failure,
        },
    }
}

/// What a provider reads from one parse of a request's body: its delivery
/// key and the subject of the event it will become.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    /// The provider's per-delivery id, or the body hash.
    pub delivery_key: DeliveryKey,
    /// The subject normalization names (`order/553440887574627`); `None`
    /// when the payload will not normalize.
    pub subject: Option<String>,
}

impl Keys {
    /// The delivery of `tenant`'s request: the subject becomes its ordering key.
    pub fn delivery(self, tenant: &str) -> Delivery {
        Delivery {
            ordering_key: self.subject.map(|s| crate::ordering_key_of(tenant, &s)),
            delivery_key: self.delivery_key,
        }
    }
}

/// The delivery of a request from its provider's [`Keys`] (a body the
/// provider cannot read is a bad request).
pub(crate) fn delivery_of(
    provider: &dyn crate::Provider,
    request: &Request<'_>,
    body: &[u8],
) -> Result<Delivery, Refusal> {
    provider
        .keys(body, request.headers)
        .map(|k| k.delivery(request.tenant))
        .map_err(|e| Refusal::from_error(RefusalReason::BadRequest, &e))
}

/// A delivery key from a provider's key text (the body hash when it cannot be one).
pub(crate) fn delivery_key_or_hash(key: String, body: &[u8]) -> DeliveryKey {
    DeliveryKey::new(key).unwrap_or_else(|| DeliveryKey::from_digest_hex(crate::body_hash(body)))
}
