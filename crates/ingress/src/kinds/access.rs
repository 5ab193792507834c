//! Network-level access controls of a source: IP allowlist (honouring a
//! forwarded-for header only when configured), HTTP basic auth, header token.
//! All secret comparisons are constant time.

use super::{Refusal, RequestFacts};
use actix_web::http::StatusCode;
use hookgate_config::Access;
use hookgate_signature::ct_eq;
use std::net::IpAddr;

/// The client address: the first entry of the trusted proxy header when one
/// is configured and present, else the TCP peer.
fn client_ip(access: &Access, facts: &RequestFacts<'_>) -> Option<IpAddr> {
    if let Some(h) = &access.trusted_proxy_header {
        if let Some(v) = facts.header(h) {
            return v.split(',').next().and_then(|first| first.trim().parse().ok());
        }
    }
    facts.peer
}

pub(super) fn check(access: &Access, facts: &RequestFacts<'_>) -> Result<(), Refusal> {
    if !access.allow_ips.is_empty() {
        let ip = client_ip(access, facts);
        if !ip.is_some_and(|ip| access.allow_ips.iter().any(|net| net.contains(ip))) {
            let shown = ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
            return Err(Refusal::new(
                StatusCode::FORBIDDEN,
                "ip_not_allowed",
                format!("client address {shown} is not allowed"),
            ));
        }
    }
    if let Some(basic) = &access.basic_auth {
        let given = facts
            .header("authorization")
            .and_then(|h| h.strip_prefix("Basic ").or_else(|| h.strip_prefix("basic ")))
            .and_then(hookgate_signature::decode_base64);
        let expected = format!("{}:{}", basic.username, basic.password.expose());
        if !given.is_some_and(|g| ct_eq(&g, expected.as_bytes())) {
            return Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "bad_basic_auth",
                "missing or wrong basic credentials",
            ));
        }
    }
    if let Some(token) = &access.token {
        if !facts
            .header(&token.header)
            .is_some_and(|v| ct_eq(v.trim().as_bytes(), token.value.expose().as_bytes()))
        {
            return Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "bad_token",
                format!("missing or wrong {} header", token.header),
            ));
        }
    }
    Ok(())
}
