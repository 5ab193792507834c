//! Bearer tokens of the admin API: who is calling, what they may do, and
//! which tenants they may see.
//!
//! Tokens are compared as SHA-256 digests in constant time, and every
//! configured token is compared (no early exit), so neither the position of
//! a match nor a shared prefix shows in the answer's timing.

use crate::error::ApiError;
use crate::AdminState;
use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::{ready, LocalBoxFuture, Ready};
use hookgate_config::{AdminScope, AdminToken};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A configured token, kept as the digest of its secret.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub(crate) name: String,
    pub(crate) digest: [u8; 32],
    scopes: Vec<AdminScope>,
    tenants: Option<Vec<String>>,
}

impl Key {
    /// The caller this key names (`csrf`: the console session's token).
    pub(crate) fn caller(&self, csrf: Option<String>) -> Caller {
        Caller {
            name: self.name.clone(),
            scopes: self.scopes.clone(),
            tenants: self.tenants.clone(),
            csrf,
        }
    }

    pub(crate) fn new(token: &AdminToken) -> Key {
        Key {
            name: token.name.clone(),
            digest: Sha256::digest(token.secret.expose().as_bytes()).into(),
            scopes: token.scopes.clone(),
            tenants: token.tenants.clone(),
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// Token name (recorded in the audit log).
    pub name: String,
    scopes: Vec<AdminScope>,
    tenants: Option<Vec<String>>,
    /// Signed in to the console: the CSRF token its forms must carry.
    pub csrf: Option<String>,
}

/// Where the routes of a scope take their caller from, set as app data on
/// the scope: the console's from its session cookie. Without it (the JSON
/// API) the caller comes from `Authorization: Bearer <token>`. The
/// extractors are the same for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Credentials {
    /// The console's session cookie.
    Session,
}

impl Caller {
    /// Whether the token has `scope` (`read_payload` includes `read`).
    pub fn has(&self, scope: AdminScope) -> bool {
        self.scopes.contains(&scope) || (scope == AdminScope::Read && self.scopes.contains(&AdminScope::ReadPayload))
    }

    /// 403 unless the token has `scope`.
    pub fn require(&self, scope: AdminScope) -> Result<(), ApiError> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "token {:?} lacks the {} scope",
                self.name,
                scope.as_str()
            )))
        }
    }

    /// Whether the token may see `tenant`.
    pub fn sees(&self, tenant: &str) -> bool {
        self.tenants.as_ref().is_none_or(|t| t.iter().any(|t| t == tenant))
    }

    /// 403 unless the token may see `tenant`.
    pub fn tenant(&self, tenant: &str) -> Result<(), ApiError> {
        if self.sees(tenant) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "token {:?} is not allowed tenant {tenant:?}",
                self.name
            )))
        }
    }

    /// The tenants a read is limited to (`None`: all).
    pub fn limit(&self) -> Option<Vec<String>> {
        self.tenants.clone()
    }
}

/// The state of the listener a request came in on (its keys, its store).
fn state_of(req: &HttpRequest) -> Result<web::Data<AdminState>, ApiError> {
    req.app_data::<web::Data<AdminState>>()
        .cloned()
        .ok_or_else(|| ApiError::unauthorized("this listener has no admin API"))
}

/// The caller, holding `scope`.
fn holding(req: &HttpRequest, scope: AdminScope) -> Result<Caller, ApiError> {
    let state = state_of(req)?;
    let caller = identify(req, &state)?;
    caller.require(scope)?;
    Ok(caller)
}

/// A caller holding the `read` scope: a handler that names it in its
/// signature cannot run for anyone else (401 without a known token, 403
/// without the scope). Carries the caller's tenant limit.
#[derive(Debug, Clone)]
pub(crate) struct Reader(pub Caller);

/// A caller holding `read_payload` (raw bodies and headers).
#[derive(Debug, Clone)]
pub(crate) struct PayloadReader(pub Caller);

/// A caller holding `operate`. A known token without the scope is refused
/// and the refusal is audited (an unknown one is not: it names no one).
#[derive(Debug, Clone)]
pub(crate) struct Operator(pub Caller);

macro_rules! deref_to_caller {
    ($($t:ty),*) => {$(
        impl std::ops::Deref for $t {
            type Target = Caller;
            fn deref(&self) -> &Caller {
                &self.0
            }
        }
    )*};
}
deref_to_caller!(Reader, PayloadReader, Operator);

impl Reader {
    /// The same caller as a [`PayloadReader`], when its token holds
    /// `read_payload`: what a route that shows bodies only to some callers
    /// asks for (only a `PayloadReader` can build a shown payload).
    pub(crate) fn payload_reader(&self) -> Option<PayloadReader> {
        self.0
            .has(AdminScope::ReadPayload)
            .then(|| PayloadReader(self.0.clone()))
    }
}

impl FromRequest for Reader {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(holding(req, AdminScope::Read).map(Reader))
    }
}

impl FromRequest for PayloadReader {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(holding(req, AdminScope::ReadPayload).map(PayloadReader))
    }
}

impl FromRequest for Operator {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let identified = state_of(req).and_then(|state| identify(req, &state).map(|c| (state, c)));
        let refusal = Refusal::of(req);
        Box::pin(async move {
            let (state, caller) = identified?;
            if let Err(refused) = caller.require(AdminScope::Operate) {
                return Err(refusal.record(&state, &caller, refused, serde_json::Value::Null).await);
            }
            Ok(Operator(caller))
        })
    }
}

/// A refused call as the audit log names it: by its route.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    action: String,
    path: String,
}

impl Refusal {
    pub(crate) fn of(req: &HttpRequest) -> Refusal {
        Refusal {
            action: format!(
                "{} {}",
                req.method(),
                req.match_pattern().unwrap_or_else(|| req.path().to_owned())
            ),
            path: req.path().to_owned(),
        }
    }

    /// Records the refusal under the caller's token (a failure to record is
    /// logged) and gives it back.
    pub(crate) async fn record(
        &self,
        state: &AdminState,
        caller: &Caller,
        refused: ApiError,
        why: serde_json::Value,
    ) -> ApiError {
        let mut request = serde_json::json!({ "path": self.path });
        if !why.is_null() {
            request["refused"] = why;
        }
        let result = serde_json::json!({ "error": refused.message() });
        if let Err(e) = (state.store)
            .record_audit(
                &caller.name,
                &self.action,
                None,
                None,
                &request,
                refused.status(),
                &result,
            )
            .await
        {
            tracing::error!(error = %hookgate_core::Chain(&e), action = self.action, "could not record a refused admin call");
        }
        refused
    }
}

/// The caller of a request, by the credentials its scope takes.
pub(crate) fn identify(req: &HttpRequest, state: &AdminState) -> Result<Caller, ApiError> {
    match req.app_data::<Credentials>() {
        Some(Credentials::Session) => crate::console::session::caller(req, state),
        None => caller(req, &state.keys),
    }
}

/// The configured token whose secret is `presented`: every key is
/// compared, in constant time.
pub(crate) fn key_of<'a>(keys: &'a [Key], presented: &str) -> Option<&'a Key> {
    let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    let mut found: Option<&Key> = None;
    for key in keys {
        if bool::from(key.digest.ct_eq(&digest)) {
            found = Some(key);
        }
    }
    found
}

/// The caller of a request: 401 without a bearer token or with one that
/// matches no configured token.
pub(crate) fn caller(req: &HttpRequest, keys: &[Key]) -> Result<Caller, ApiError> {
    let presented = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::unauthorized("a bearer token is required (Authorization: Bearer <token>)"))?;
    let key = key_of(keys, presented).ok_or_else(|| ApiError::unauthorized("unknown token"))?;
    Ok(key.caller(None))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hookgate_config::Secret;

    fn key(name: &str, secret: &str, scopes: &[AdminScope], tenants: Option<&[&str]>) -> Key {
        Key::new(&AdminToken {
            name: name.into(),
            secret: Secret::new(secret),
            scopes: scopes.to_vec(),
            tenants: tenants.map(|t| t.iter().map(|s| (*s).to_owned()).collect()),
        })
    }

    fn request(auth: Option<&str>) -> HttpRequest {
        let mut r = actix_web::test::TestRequest::default();
        if let Some(a) = auth {
            r = r.insert_header((AUTHORIZATION, a));
        }
        r.to_http_request()
    }

    #[test]
    fn tokens_scopes_and_tenants() {
        let keys = [
            key("ops", "s3cret", &[AdminScope::Read, AdminScope::Operate], None),
            key("acme", "other", &[AdminScope::ReadPayload], Some(&["acme"])),
        ];
        assert_eq!(caller(&request(None), &keys).unwrap_err().status(), 401);
        assert_eq!(caller(&request(Some("Bearer nope")), &keys).unwrap_err().status(), 401);
        assert_eq!(caller(&request(Some("Basic s3cret")), &keys).unwrap_err().status(), 401);
        let ops = caller(&request(Some("Bearer s3cret")), &keys).unwrap();
        assert_eq!(ops.name, "ops");
        assert!(ops.require(AdminScope::Operate).is_ok());
        assert_eq!(ops.require(AdminScope::ReadPayload).unwrap_err().status(), 403);
        assert!(ops.tenant("any").is_ok());
        let acme = caller(&request(Some("Bearer other")), &keys).unwrap();
        assert!(acme.has(AdminScope::Read), "read_payload includes read");
        assert!(!acme.has(AdminScope::Operate));
        assert_eq!(acme.tenant("globex").unwrap_err().status(), 403);
        assert_eq!(acme.limit(), Some(vec!["acme".to_owned()]));
    }
}
