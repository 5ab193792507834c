//! Bearer tokens of the admin API: who is calling, what they may do, and
//! which tenants they may see.
//!
//! Tokens are compared as SHA-256 digests in constant time, and every
//! configured token is compared (no early exit), so neither the position of
//! a match nor a shared prefix shows in the answer's timing.

use crate::error::ApiError;
use actix_web::http::header::AUTHORIZATION;
use actix_web::HttpRequest;
use hookgate_config::{AdminScope, AdminToken};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A configured token, kept as the digest of its secret.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    name: String,
    digest: [u8; 32],
    scopes: Vec<AdminScope>,
    tenants: Option<Vec<String>>,
}

impl Key {
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
    let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    let mut found: Option<&Key> = None;
    for key in keys {
        if bool::from(key.digest.ct_eq(&digest)) {
            found = Some(key);
        }
    }
    let key = found.ok_or_else(|| ApiError::unauthorized("unknown token"))?;
    Ok(Caller {
        name: key.name.clone(),
        scopes: key.scopes.clone(),
        tenants: key.tenants.clone(),
    })
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
