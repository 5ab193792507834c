//! The raw notification as received, and how its signature was checked.

use crate::{DeliveryKey, SourceId, SourceKind, TenantId};
use bytes::Bytes;
use chrono::{DateTime, Utc};

/// One HTTP header as received (name lowercased by the HTTP layer).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Header {
    /// Header name.
    pub name: String,
    /// Header value, lossily decoded as UTF-8.
    pub value: String,
}

/// The exact request a provider sent, as it will be stored.
#[derive(Debug, Clone)]
pub struct RawNotification {
    /// Tenant resolved from the path.
    pub tenant: TenantId,
    /// Source resolved from the path.
    pub source: SourceId,
    /// Kind of the source.
    pub kind: SourceKind,
    /// Provider delivery key (dedupe of redeliveries).
    pub delivery_key: DeliveryKey,
    /// Body bytes, untouched.
    pub body: Bytes,
    /// Request headers (sensitive ones redacted by the HTTP layer).
    pub headers: Vec<Header>,
    /// Peer address, as seen by the server.
    pub remote_addr: Option<String>,
    /// When the request was read.
    pub received_at: DateTime<Utc>,
    /// W3C traceparent of the request's span, carried to the publish.
    pub traceparent: Option<String>,
    /// Ordering key of its events (`tenant:subject`, derived by the
    /// normalizer): events of one key are published in commit order.
    pub ordering_key: Option<String>,
    /// The offset its zoneless provider times are read at (Pagsmile
    /// issuing), fixed at ingest so that a configuration change does not
    /// re-time it.
    pub utc_offset_minutes: Option<i32>,
}

/// What signature verification concluded about a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureCheck {
    /// A signature matched; `recipe` names the recipe (and key) that matched.
    Matched {
        /// Recipe name, e.g. `url?params+secret`.
        recipe: String,
    },
    /// No signature matched but the source is in `observe` mode: accepted and flagged.
    Observed {
        /// Why it did not verify.
        reason: String,
    },
    /// The provider does not sign (Pagsmile issuing): the source is
    /// authenticated by `by` (e.g. `access-controls`, or `unauthenticated`
    /// when the operator allowed that explicitly).
    NotRequired {
        /// What authenticated it.
        by: String,
    },
}

impl SignatureCheck {
    /// The matched recipe (or what authenticated an unsigned source).
    pub fn recipe(&self) -> Option<&str> {
        match self {
            SignatureCheck::Matched { recipe } => Some(recipe),
            SignatureCheck::NotRequired { by } => Some(by),
            SignatureCheck::Observed { .. } => None,
        }
    }

    /// True unless the request was accepted unverified in observe mode.
    pub fn is_verified(&self) -> bool {
        !matches!(self, SignatureCheck::Observed { .. })
    }
}
