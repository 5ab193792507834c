//! A provider request as data: sent by the clients, printed (redacted) by `--dry-run`.

use crate::ApiError;
use serde_json::Value;
use std::fmt;

/// Header names whose values are credentials.
const SECRET_HEADERS: &[&str] = &["x-bh-apikey", "x-bh-token", "authorization"];
/// Query parameters and body fields that are credentials or signatures.
const SECRET_FIELDS: &[&str] = &["signature", "sig"];
/// What replaces a secret in printed requests.
const REDACTED: &str = "<redacted>";

/// One HTTP request to a provider.
#[derive(Clone, PartialEq)]
pub struct ApiRequest {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// Full URL including the query string.
    pub url: String,
    /// Headers besides `Content-Type`.
    pub headers: Vec<(&'static str, String)>,
    /// JSON body.
    pub body: Option<Value>,
}

impl ApiRequest {
    /// The request with every credential and signature replaced by `<redacted>`.
    pub fn redacted(&self) -> ApiRequest {
        let headers = self
            .headers
            .iter()
            .map(|(k, v)| {
                if SECRET_HEADERS.contains(&k.to_ascii_lowercase().as_str()) {
                    (*k, REDACTED.to_owned())
                } else {
                    (*k, v.clone())
                }
            })
            .collect();
        let url = match self.url.split_once('?') {
            Some((path, query)) => {
                let query: Vec<String> = query
                    .split('&')
                    .map(|pair| match pair.split_once('=') {
                        Some((k, _)) if SECRET_FIELDS.contains(&k) => format!("{k}={REDACTED}"),
                        _ => pair.to_owned(),
                    })
                    .collect();
                format!("{path}?{}", query.join("&"))
            }
            None => self.url.clone(),
        };
        let body = self.body.clone().map(|mut b| {
            if let Some(map) = b.as_object_mut() {
                for field in SECRET_FIELDS {
                    if let Some(v) = map.get_mut(*field) {
                        *v = Value::String(REDACTED.to_owned());
                    }
                }
            }
            b
        });
        ApiRequest {
            method: self.method,
            url,
            headers,
            body,
        }
    }
}

/// Prints the request redacted: `Display` never shows a secret.
impl fmt::Display for ApiRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.redacted();
        write!(f, "{} {}", r.method, r.url)?;
        for (k, v) in &r.headers {
            write!(f, "\n  {k}: {v}")?;
        }
        if let Some(body) = &r.body {
            write!(f, "\n  {body}")?;
        }
        Ok(())
    }
}

/// `Debug` is redacted too, so a request in a log line leaks nothing.
impl fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiRequest({})", self.redacted().url)
    }
}

/// Sends `req`; the answer's status and body.
pub(crate) async fn send(
    http: &reqwest::Client,
    provider: &'static str,
    op: &'static str,
    req: &ApiRequest,
) -> Result<(u16, Vec<u8>), ApiError> {
    let method = match req.method {
        "POST" => reqwest::Method::POST,
        "PUT" => reqwest::Method::PUT,
        "DELETE" => reqwest::Method::DELETE,
        _ => reqwest::Method::GET,
    };
    let mut builder = http.request(method, &req.url);
    for (k, v) in &req.headers {
        builder = builder.header(*k, v);
    }
    if let Some(body) = &req.body {
        builder = builder.json(body);
    }
    let transport = |e: reqwest::Error| ApiError::Transport {
        provider,
        op,
        message: if e.is_timeout() {
            format!("timed out: {e}")
        } else {
            e.to_string()
        },
    };
    let response = builder.send().await.map_err(transport)?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(transport)?;
    tracing::debug!(provider, op, status, url = %req.redacted().url, "provider call");
    Ok((status, body.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_covers_headers_query_and_body() {
        let r = ApiRequest {
            method: "GET",
            url: "https://x/v2/token/generate?timestamp=1&signature=abcdef".into(),
            headers: vec![("X-BH-APIKEY", "key-123".into()), ("X-Other", "ok".into())],
            body: Some(serde_json::json!({"sig": "deadbeef", "url": "https://h/hooks/a/b"})),
        };
        let shown = r.to_string();
        for secret in ["key-123", "abcdef", "deadbeef"] {
            assert!(!shown.contains(secret), "{shown}");
            assert!(!format!("{r:?}").contains(secret));
        }
        assert!(
            shown.contains("timestamp=1") && shown.contains("X-Other: ok") && shown.contains("https://h/hooks/a/b")
        );
    }
}
