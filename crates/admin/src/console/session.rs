//! Console sessions: an admin token is exchanged once for a signed,
//! expiring cookie (`hookgate_session`: HttpOnly, SameSite=Strict, Secure
//! when the request came over TLS), so the token never sits in the browser.
//!
//! The cookie is `<token name, base64url>.<expiry, Unix seconds>.<nonce>.<mac>`
//! where the MAC is HMAC-SHA256 under a key derived from the token's own
//! secret digest: every process with the same tokens verifies it (no shared
//! session store), removing or rotating a token ends its sessions, and no
//! one without the token can make one. Sign-out clears the cookie and
//! refuses its nonce in this process until it expires.
//!
//! The CSRF token of a session is another MAC of its nonce: forms and htmx
//! calls carry it, and [`super::csrf::CsrfForm`] refuses a post without it.

use crate::auth::{Caller, Key};
use crate::error::ApiError;
use crate::AdminState;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

/// The session cookie.
pub(crate) const COOKIE: &str = "hookgate_session";
/// How long a session lasts.
pub(crate) const LIFETIME_SECS: i64 = 8 * 3600;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &Key, purpose: &str, parts: &[&str]) -> String {
    // The session key is derived from the token's digest, never the secret.
    let Ok(mut derive) = HmacSha256::new_from_slice(&key.digest) else {
        return String::new();
    };
    derive.update(b"hookgate console session v1");
    let session_key = derive.finalize().into_bytes();
    let Ok(mut m) = HmacSha256::new_from_slice(&session_key) else {
        return String::new();
    };
    m.update(purpose.as_bytes());
    for p in parts {
        m.update(b"\x00");
        m.update(p.as_bytes());
    }
    hex::encode(m.finalize().into_bytes())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Nonces of sessions signed out in this process, with their expiry.
#[derive(Debug, Default)]
pub(crate) struct SignedOut(Mutex<HashMap<String, i64>>);

impl SignedOut {
    fn add(&self, nonce: &str, expires: i64) {
        if let Ok(mut m) = self.0.lock() {
            let t = now();
            m.retain(|_, e| *e > t);
            m.insert(nonce.to_owned(), expires);
        }
    }
    fn contains(&self, nonce: &str) -> bool {
        self.0.lock().is_ok_and(|m| m.contains_key(nonce))
    }
}

/// A new session of `key`: the cookie's value.
pub(crate) fn issue(key: &Key) -> String {
    let expires = (now() + LIFETIME_SECS).to_string();
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    let name = URL_SAFE_NO_PAD.encode(key.name.as_bytes());
    let m = mac(key, "session", &[&key.name, &expires, &nonce]);
    format!("{name}.{expires}.{nonce}.{m}")
}

struct Parsed<'a> {
    key: &'a Key,
    expires: i64,
    nonce: String,
}

fn parse<'a>(value: &str, keys: &'a [Key]) -> Option<Parsed<'a>> {
    let mut parts = value.split('.');
    let (name, expires, nonce, given) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let name = String::from_utf8(URL_SAFE_NO_PAD.decode(name).ok()?).ok()?;
    let expires_at: i64 = expires.parse().ok()?;
    // Every key of that name is tried (names are meant to be unique).
    let key = keys.iter().find(|k| {
        k.name == name
            && bool::from(
                mac(k, "session", &[&name, expires, nonce])
                    .as_bytes()
                    .ct_eq(given.as_bytes()),
            )
    })?;
    (expires_at > now()).then(|| Parsed {
        key,
        expires: expires_at,
        nonce: nonce.to_owned(),
    })
}

/// The CSRF token of a session.
fn csrf_of(key: &Key, nonce: &str) -> String {
    mac(key, "csrf", &[nonce])
}

/// The caller a session cookie names: 401 without one, or with one that is
/// forged, expired, signed out, or of a token no longer configured.
pub(crate) fn caller(req: &HttpRequest, state: &AdminState) -> Result<Caller, ApiError> {
    let cookie = req
        .cookie(COOKIE)
        .ok_or_else(|| ApiError::unauthorized("sign in to the console"))?;
    let parsed = parse(cookie.value(), &state.keys)
        .filter(|p| !state.signed_out.contains(&p.nonce))
        .ok_or_else(|| ApiError::unauthorized("the session ended; sign in again"))?;
    Ok(parsed.key.caller(Some(csrf_of(parsed.key, &parsed.nonce))))
}

/// Ends the session of this request's cookie (in this process).
pub(crate) fn sign_out(req: &HttpRequest, state: &AdminState) {
    if let Some(p) = req.cookie(COOKIE).and_then(|c| parse(c.value(), &state.keys)) {
        state.signed_out.add(&p.nonce, p.expires);
    }
}

/// Whether the request came over TLS (then cookies are `Secure`).
fn over_tls(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

/// The cookie that holds a session.
pub(crate) fn cookie(req: &HttpRequest, value: String) -> Cookie<'static> {
    Cookie::build(COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(over_tls(req))
        .max_age(actix_web::cookie::time::Duration::seconds(LIFETIME_SECS))
        .finish()
}

/// The cookie that removes the session.
pub(crate) fn removal(req: &HttpRequest) -> Cookie<'static> {
    let mut c = cookie(req, String::new());
    c.make_removal();
    c
}

/// The sign-in form's own double-submit token (there is no session yet to
/// bind a CSRF token to): a random value in a cookie and in the form.
pub(crate) const SIGN_IN_COOKIE: &str = "hookgate_sign_in";

/// A fresh sign-in token and the cookie holding it.
pub(crate) fn sign_in_token(req: &HttpRequest) -> (String, Cookie<'static>) {
    let token = hex::encode(rand::random::<[u8; 16]>());
    let c = Cookie::build(SIGN_IN_COOKIE, token.clone())
        .path("/sign-in")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(over_tls(req))
        .max_age(actix_web::cookie::time::Duration::minutes(30))
        .finish();
    (token, c)
}

/// Whether a posted sign-in token matches its cookie.
pub(crate) fn sign_in_token_ok(req: &HttpRequest, posted: &str) -> bool {
    req.cookie(SIGN_IN_COOKIE)
        .is_some_and(|c| !posted.is_empty() && bool::from(c.value().as_bytes().ct_eq(posted.as_bytes())))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hookgate_config::{AdminScope, AdminToken, Secret};

    fn key(name: &str, secret: &str) -> Key {
        Key::new(&AdminToken {
            name: name.into(),
            secret: Secret::new(secret),
            scopes: vec![AdminScope::Read],
            tenants: None,
        })
    }

    #[test]
    fn sessions_verify_only_unaltered_and_under_their_token() {
        let keys = [key("ops", "s3cret"), key("other", "x")];
        let value = issue(&keys[0]);
        let p = parse(&value, &keys).unwrap();
        assert_eq!(p.key.name, "ops");
        // Another token of the same name (a rotation) does not verify it.
        assert!(parse(&value, &[key("ops", "rotated")]).is_none());
        // Any altered part is refused.
        let parts: Vec<&str> = value.split('.').collect();
        let later = (now() + 10 * LIFETIME_SECS).to_string();
        let longer = format!("{}.{}.{}.{}", parts[0], later, parts[2], parts[3]);
        assert!(parse(&longer, &keys).is_none());
        let renamed = format!(
            "{}.{}.{}.{}",
            URL_SAFE_NO_PAD.encode("other"),
            parts[1],
            parts[2],
            parts[3]
        );
        assert!(parse(&renamed, &keys).is_none());
        assert!(parse("garbage", &keys).is_none());
        // The CSRF token is bound to the session.
        let other = parse(&issue(&keys[0]), &keys).unwrap();
        assert_ne!(csrf_of(&keys[0], &p.nonce), csrf_of(&keys[0], &other.nonce));
    }
}
