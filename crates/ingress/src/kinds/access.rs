//! Network-level access controls of a source: IP allowlist (honouring a
//! forwarded-for header only when configured), HTTP basic auth, header token.
//! All secret comparisons are constant time.

use super::{Reason, Refusal, RequestFacts};
use hookgate_config::Access;
use hookgate_signature::ct_eq;
use std::net::IpAddr;

/// The client address. Without a configured proxy header: the TCP peer.
/// With one, the standard rule for `X-Forwarded-For`-style headers, where
/// each proxy appends the address it received from: trust the header only
/// when the peer is a trusted proxy, then walk its entries from the right
/// past trusted proxies; the first other entry is the client. Entries to the
/// left of it were written by the client itself and are never believed.
/// A malformed entry on that walk makes the address unknown (refused).
fn client_ip(access: &Access, facts: &RequestFacts<'_>) -> Option<IpAddr> {
    let peer = facts.peer;
    let Some(h) = &access.trusted_proxy_header else {
        return peer;
    };
    let trusted = |ip: IpAddr| access.trusted_proxies.iter().any(|net| net.contains(ip));
    if !access.trusted_proxies.is_empty() && !peer.is_some_and(trusted) {
        // Not sent by one of our proxies: the header is the client's word.
        return peer;
    }
    // Every line of the header, in order, as one list.
    let entries: Vec<&str> = facts
        .headers
        .get_all(h.as_str())
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    if entries.is_empty() {
        return peer;
    }
    let mut client = None;
    for entry in entries.iter().rev() {
        let ip = parse_entry(entry)?;
        client = Some(ip);
        if !trusted(ip) {
            break;
        }
    }
    client
}

/// One forwarded address: `203.0.113.5`, `2001:db8::1`, `[2001:db8::1]:443`
/// or `203.0.113.5:443`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    entry.parse::<std::net::SocketAddr>().ok().map(|a| a.ip())
}

pub(super) fn check(access: &Access, facts: &RequestFacts<'_>) -> Result<(), Refusal> {
    if !access.allow_ips.is_empty() {
        let ip = client_ip(access, facts);
        if !ip.is_some_and(|ip| access.allow_ips.iter().any(|net| net.contains(ip))) {
            let shown = ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
            return Err(Refusal::new(
                Reason::IpNotAllowed,
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
            return Err(Refusal::new(Reason::BadBasicAuth, "missing or wrong basic credentials"));
        }
    }
    if let Some(token) = &access.token {
        if !facts
            .header(&token.header)
            .is_some_and(|v| ct_eq(v.trim().as_bytes(), token.value.expose().as_bytes()))
        {
            return Err(Refusal::new(
                Reason::BadToken,
                format!("missing or wrong {} header", token.header),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
    use hookgate_core::Cidr;

    fn access(allow: &[&str], proxies: &[&str]) -> Access {
        Access {
            allow_ips: allow.iter().map(|c| Cidr::parse(c).unwrap()).collect(),
            trusted_proxy_header: Some("x-forwarded-for".into()),
            trusted_proxies: proxies.iter().map(|c| Cidr::parse(c).unwrap()).collect(),
            ..Access::default()
        }
    }

    fn ip(access: &Access, peer: &str, xff: &[&str]) -> Option<IpAddr> {
        let mut headers = HeaderMap::new();
        for v in xff {
            headers.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let facts = RequestFacts {
            request_url: "http://h/",
            headers: &headers,
            peer: Some(peer.parse().unwrap()),
            now_secs: 0,
        };
        client_ip(access, &facts)
    }

    #[test]
    fn a_spoofed_first_entry_is_not_the_client() {
        // The reproducer: the client wrote 203.0.113.5, the proxy appended 198.51.100.7.
        let a = access(&["203.0.113.0/24"], &[]);
        let got = ip(&a, "10.0.0.2", &["203.0.113.5, 198.51.100.7"]);
        assert_eq!(got, Some("198.51.100.7".parse().unwrap()));
        assert!(check(
            &a,
            &RequestFacts {
                request_url: "",
                headers: &{
                    let mut h = HeaderMap::new();
                    h.insert(
                        HeaderName::from_static("x-forwarded-for"),
                        HeaderValue::from_static("203.0.113.5, 198.51.100.7"),
                    );
                    h
                },
                peer: Some("10.0.0.2".parse().unwrap()),
                now_secs: 0,
            }
        )
        .is_err());
    }

    #[test]
    fn the_walk_skips_trusted_proxies_from_the_right() {
        let a = access(&[], &["10.0.0.0/8"]);
        // client → 10.1.1.1 (proxy) → 10.0.0.2 (proxy) → hookgate
        assert_eq!(
            ip(&a, "10.0.0.2", &["6.6.6.6, 203.0.113.5, 10.1.1.1"]),
            Some("203.0.113.5".parse().unwrap())
        );
        // Several header lines form one list.
        assert_eq!(
            ip(&a, "10.0.0.2", &["6.6.6.6", "203.0.113.5", "10.1.1.1"]),
            Some("203.0.113.5".parse().unwrap())
        );
        // Ports and bracketed IPv6 are understood.
        assert_eq!(
            ip(&a, "10.0.0.2", &["[2001:db8::1]:443, 10.1.1.1:80"]),
            Some("2001:db8::1".parse().unwrap())
        );
        // Not from a trusted proxy: the header is ignored.
        assert_eq!(
            ip(&a, "192.0.2.9", &["203.0.113.5"]),
            Some("192.0.2.9".parse().unwrap())
        );
        // Garbage on the walk: unknown, refused by an allowlist.
        assert_eq!(ip(&a, "10.0.0.2", &["203.0.113.5, nonsense"]), None);
        // Only proxies: the leftmost is the best we know.
        assert_eq!(
            ip(&a, "10.0.0.2", &["10.9.9.9, 10.1.1.1"]),
            Some("10.9.9.9".parse().unwrap())
        );
        // No header: the peer.
        assert_eq!(ip(&a, "10.0.0.2", &[]), Some("10.0.0.2".parse().unwrap()));
    }
}
