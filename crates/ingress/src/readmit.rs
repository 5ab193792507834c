//! Re-admission of a rejected request (the admin API's
//! `POST /v1/rejections/{id}/readmit`): after a configuration fix, e.g. a
//! rotated secret, the stored request is checked again exactly as a new
//! one would be (access rules, then the provider's inspection with the
//! current configuration and registered keys) and stored only if it now
//! passes with a matching signature. Nothing is admitted unverified, not
//! even for a source in observe mode.
//!
//! Time-bound checks (signature timestamps) are made at the time the request
//! was received, not now: the request is the same one, only the
//! configuration changed.

use crate::kinds::{self, RequestFacts};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use hookgate_config::Tenants;
use hookgate_core::{Header, RawNotification};
use hookgate_providers::{Admitted, Inspected, RegisteredKey};
use hookgate_signature::rsa::PublicKey;
use hookgate_store::{InsertOutcome, Store, StoreError};

/// A stored rejected request.
#[derive(Debug, Clone, Copy)]
pub struct StoredRequest<'a> {
    /// Tenant it named.
    pub tenant: &'a str,
    /// Source it named.
    pub source: &'a str,
    /// Headers as stored (`[{"name", "value"}]`, credentials redacted).
    pub headers: &'a serde_json::Value,
    /// Body as stored.
    pub body: &'a [u8],
    /// The body's size when it was received.
    pub body_size: i64,
    /// The URL it was sent to.
    pub request_url: Option<&'a str>,
    /// Peer address.
    pub remote_addr: Option<&'a str>,
    /// When it was received.
    pub received_at: DateTime<Utc>,
}

/// A re-admitted request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readmitted {
    /// Stored now as this notification (its events follow as usual).
    Stored {
        /// Notification id.
        id: i64,
    },
    /// The same delivery was stored meanwhile (the provider retried).
    AlreadyStored {
        /// Notification id.
        id: i64,
    },
}

/// Why a request was not re-admitted.
#[derive(Debug, thiserror::Error)]
pub enum NotReadmitted {
    /// Its tenant or source is not configured (any more).
    #[error("tenant {tenant:?} has no source {source_id:?} in the running configuration")]
    UnknownSource {
        /// Tenant.
        tenant: String,
        /// Source.
        source_id: String,
    },
    /// What was kept of it cannot be checked again.
    #[error("{0}")]
    Incomplete(String),
    /// It is still refused.
    #[error("still refused ({reason}): {detail}")]
    StillRefused {
        /// Reason (as in rejections).
        reason: String,
        /// Detail.
        detail: String,
    },
    /// The database failed.
    #[error("storing it failed")]
    Store(#[source] StoreError),
}

/// Checks a rejected request again under the current configuration and
/// stores it when it now passes.
pub async fn readmit(tenants: &Tenants, store: &Store, req: StoredRequest<'_>) -> Result<Readmitted, NotReadmitted> {
    let unknown = || NotReadmitted::UnknownSource {
        tenant: req.tenant.to_owned(),
        source_id: req.source.to_owned(),
    };
    let tenant = tenants.get(req.tenant).ok_or_else(unknown)?;
    let source = tenant.source(req.source).ok_or_else(unknown)?;
    if req.body_size != req.body.len() as i64 {
        return Err(NotReadmitted::Incomplete(format!(
            "only {} of its {} body bytes were read or kept (a body is kept whole only for refusals a \
             re-admission can reverse, within the source's byte budget)",
            req.body.len(),
            req.body_size
        )));
    }
    let request_url = req.request_url.ok_or_else(|| {
        NotReadmitted::Incomplete("its URL was not recorded (rejected before re-admission existed)".into())
    })?;
    let stored: Vec<Header> = serde_json::from_value(req.headers.clone())
        .map_err(|e| NotReadmitted::Incomplete(format!("its stored headers do not read: {e}")))?;
    let mut map = HeaderMap::new();
    for h in &stored {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_str(&h.value),
        ) {
            map.append(name, value);
        }
    }
    let facts = RequestFacts {
        request_url,
        headers: &map,
        peer: req
            .remote_addr
            .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
            .map(|a| a.ip()),
        now_secs: req.received_at.timestamp(),
    };
    let refused = |r: kinds::Refusal| NotReadmitted::StillRefused {
        reason: r.reason.as_str().to_owned(),
        detail: r.detail,
    };
    kinds::admit(source, &facts).map_err(refused)?;
    let registered = if source.settings.uses_registered_keys() {
        registered_keys(store, req.tenant, req.source)
            .await
            .map_err(NotReadmitted::Store)?
    } else {
        Vec::new()
    };
    let delivery = match kinds::inspect(req.tenant, source, &facts, req.body, &registered).map_err(refused)? {
        Inspected::Authenticated(delivery) => delivery,
        Inspected::Heartbeat => {
            return Err(NotReadmitted::StillRefused {
                reason: "heartbeat".into(),
                detail: "a heartbeat carries no notification".into(),
            })
        }
        Inspected::Unverified { failure, .. } => return Err(refused(failure.into())),
    };
    let notification = delivery.map(|d| RawNotification {
        tenant: tenant.id.clone(),
        source: source.id.clone(),
        kind: source.kind,
        delivery_key: d.delivery_key,
        body: Bytes::copy_from_slice(req.body),
        headers: stored,
        remote_addr: req.remote_addr.map(str::to_owned),
        received_at: req.received_at,
        traceparent: None,
        ordering_key: d.ordering_key,
        utc_offset_minutes: source.settings.options().utc_offset_minutes,
    });
    let recipe = notification.check().recipe().map(str::to_owned);
    let admitted = Admitted::Authenticated(notification);
    let outcome = store
        .insert_batch(&[(&admitted, 1)])
        .await
        .map_err(NotReadmitted::Store)?;
    let readmitted = match outcome.first() {
        Some(InsertOutcome::Inserted { id }) => Readmitted::Stored { id: *id },
        Some(InsertOutcome::Duplicate { id, .. }) => Readmitted::AlreadyStored { id: *id },
        None => return Err(NotReadmitted::Incomplete("the database returned no outcome".into())),
    };
    // A re-admitted delivery proves its recipe like a live one (best effort:
    // the next live delivery records it otherwise).
    if let (Some(recipe), Readmitted::Stored { id } | Readmitted::AlreadyStored { id }) = (recipe, &readmitted) {
        if let Err(e) = store.record_proven_recipe(req.tenant, req.source, &recipe, *id).await {
            tracing::warn!(error = %hookgate_core::Chain(&e), "could not record the proven recipe");
        }
    }
    Ok(readmitted)
}

/// The keys providers returned at registration for one source.
async fn registered_keys(store: &Store, tenant: &str, source: &str) -> Result<Vec<RegisteredKey>, StoreError> {
    let tenant_id = hookgate_core::TenantId::from_stored(tenant.to_owned());
    Ok(store
        .provider_keys(Some(&tenant_id), false)
        .await?
        .into_iter()
        .filter(|k| k.source.as_str() == source)
        .filter_map(|k| {
            PublicKey::parse(&k.public_key).ok().map(|key| RegisteredKey {
                fingerprint: k.fingerprint,
                key,
            })
        })
        .collect())
}
