//! BH (VelaFi / TruBit) webhook listeners (PROVIDERS.md §3).
//!
//! Session: `GET <token path>?timestamp=<ms>&signature=<hex HMAC-SHA256(api
//! secret, "timestamp=<ms>")>` with `X-BH-APIKEY` gives a token and its
//! `expireTime` (ms, a string). The token is cached and renewed
//! `token_renew_before` ahead of that time; every other call carries it as
//! `X-BH-TOKEN`. When BH nevertheless answers that the token is invalid (HTTP
//! 401 or one of `token_error_codes`), the client fetches a new token and
//! retries the call once.
//!
//! Every answer is `{code, msg, data}`; `code` 200 is success.

use crate::error::excerpt;
use crate::{ApiError, ApiRequest};
use hookgate_config::BhApi;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Mutex;

const PROVIDER: &str = "bh";

/// Listener status: active.
pub const STATUS_ACTIVE: i32 = 10;
/// Listener status: disabled.
pub const STATUS_DISABLED: i32 = 20;
/// Listener status: deleted.
pub const STATUS_DELETED: i32 = 30;

/// Event types named in BH's docs (reference, guide and payload pages).
pub const EVENT_TYPES: &[&str] = &[
    "ORDER_WEBHOOK",
    "GLOBAL_PAYMENT_WEBHOOK",
    "FUNDING_WEBHOOK",
    "ON_RAMP_WITHDRAW_WEBHOOK",
    "STABLE_COIN_PAYMENT_WEBHOOK",
    "MERCHANT_TRADE_WEBHOOK",
];

/// A webhook listener as BH returns it, read as leniently as its pushes:
/// `webhookId` as a string or a number, `status` as a number or a string of
/// digits, text fields absent or `null` as empty. Only a listener without
/// an id cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawWebhook")]
pub struct Webhook {
    /// Listener id.
    pub webhook_id: String,
    /// Event type.
    pub event_type: String,
    /// Callback URL.
    pub url: String,
    /// 10 active, 20 disabled, 30 deleted (the docs' examples also show 1).
    pub status: i32,
    /// Base64 DER SPKI that verifies pushes (documented as optional).
    pub public_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawWebhook {
    webhook_id: Option<Value>,
    event_type: Option<Value>,
    url: Option<Value>,
    status: Option<Value>,
    public_key: Option<Value>,
}

/// A string, or a number written out; `None` for anything else or empty.
fn loose_text(v: Option<Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

impl TryFrom<RawWebhook> for Webhook {
    type Error = String;

    fn try_from(raw: RawWebhook) -> Result<Webhook, String> {
        let status = raw.status.as_ref().and_then(|v| match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        Ok(Webhook {
            webhook_id: loose_text(raw.webhook_id).ok_or("a listener without a webhookId")?,
            event_type: loose_text(raw.event_type).unwrap_or_default(),
            url: loose_text(raw.url).unwrap_or_default(),
            status: status.and_then(|s| i32::try_from(s).ok()).unwrap_or_default(),
            public_key: loose_text(raw.public_key),
        })
    }
}

#[derive(Debug, Clone)]
struct Token {
    value: String,
    expire_at_ms: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenData {
    token: String,
    expire_time: Value,
}

/// A BH API session of one account.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    cfg: BhApi,
    token: Mutex<Option<Token>>,
    token_fetches: AtomicU64,
}

impl Client {
    /// A client of the account in `cfg` (no request is made yet).
    pub fn new(cfg: &BhApi) -> Result<Client, ApiError> {
        Ok(Client {
            http: crate::http_client(cfg.timeout)?,
            cfg: cfg.clone(),
            token: Mutex::new(None),
            token_fetches: AtomicU64::new(0),
        })
    }

    /// How many tokens this client has fetched.
    pub fn token_fetches(&self) -> u64 {
        self.token_fetches.load(Ordering::Relaxed)
    }

    fn url(&self, path: &str, webhook_id: Option<&str>) -> String {
        let path = match webhook_id {
            Some(id) => path.replace("{webhookId}", id),
            None => path.to_owned(),
        };
        format!("{}{}", self.cfg.base_url, path)
    }

    /// The token request at `now_ms`.
    pub fn token_request(&self, now_ms: i64) -> ApiRequest {
        let payload = format!("timestamp={now_ms}");
        let signature = hex::encode(hookgate_signature::hmac_sha256(
            self.cfg.api_secret.expose().as_bytes(),
            &[payload.as_bytes()],
        ));
        ApiRequest {
            method: "GET",
            url: format!(
                "{}?{payload}&signature={signature}",
                self.url(&self.cfg.paths.token, None)
            ),
            headers: vec![("X-BH-APIKEY", self.cfg.api_key.expose().to_owned())],
            body: None,
        }
    }

    /// Creates a listener of `event_type` posting to `url`.
    pub fn create_request(&self, event_type: &str, url: &str) -> ApiRequest {
        self.authed(
            "POST",
            self.url(&self.cfg.paths.create, None),
            Some(json!({"eventType": event_type, "url": url})),
        )
    }

    /// Points listener `id` at `url` with `status` (10 active, 20 disabled).
    pub fn update_request(&self, id: &str, url: &str, status: i32) -> ApiRequest {
        self.authed(
            "PUT",
            self.url(&self.cfg.paths.update, Some(id)),
            Some(json!({"url": url, "status": status})),
        )
    }

    /// Lists listeners, optionally of one status.
    pub fn list_request(&self, status: Option<i32>) -> ApiRequest {
        let mut url = self.url(&self.cfg.paths.list, None);
        if let Some(s) = status {
            url.push_str(&format!("?status={s}"));
        }
        self.authed("GET", url, None)
    }

    /// Deletes listener `id` (BH: cannot be undone).
    pub fn delete_request(&self, id: &str) -> ApiRequest {
        self.authed("DELETE", self.url(&self.cfg.paths.delete, Some(id)), None)
    }

    /// A request that needs `X-BH-TOKEN` (filled in when sent).
    fn authed(&self, method: &'static str, url: String, body: Option<Value>) -> ApiRequest {
        ApiRequest {
            method,
            url,
            headers: vec![("X-BH-TOKEN", String::new())],
            body,
        }
    }

    /// Creates a listener. `Ok(None)`: BH accepted it (code 200) but its
    /// answer holds no listener that can be read (no `webhookId`): it exists
    /// at BH, and a later registration finds it in the list.
    pub async fn create(&self, event_type: &str, url: &str) -> Result<Option<Webhook>, ApiError> {
        let data: Option<Value> = self
            .call("create webhook", self.create_request(event_type, url))
            .await?;
        Ok(listener(data, "create webhook"))
    }

    /// Updates a listener's URL and status; `Ok(None)` as for [`Client::create`].
    pub async fn update(&self, id: &str, url: &str, status: i32) -> Result<Option<Webhook>, ApiError> {
        let data: Option<Value> = self
            .call("update webhook", self.update_request(id, url, status))
            .await?;
        Ok(listener(data, "update webhook"))
    }

    /// Lists listeners; an entry that cannot be read is skipped (logged).
    pub async fn list(&self, status: Option<i32>) -> Result<Vec<Webhook>, ApiError> {
        let data: Option<Value> = self.call("list webhooks", self.list_request(status)).await?;
        let items = match data {
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) => Vec::new(),
            Some(other) => {
                tracing::warn!(answer = %excerpt(other.to_string().as_bytes()), "bh's list of listeners is not a list; read as empty");
                Vec::new()
            }
        };
        Ok(items
            .into_iter()
            .filter_map(|item| match serde_json::from_value::<Webhook>(item.clone()) {
                Ok(w) => Some(w),
                Err(e) => {
                    tracing::warn!(error = %e, item = %excerpt(item.to_string().as_bytes()), "skipping a listener bh listed that cannot be read");
                    None
                }
            })
            .collect())
    }

    /// Deletes a listener; true when BH reports it deleted.
    pub async fn delete(&self, id: &str) -> Result<bool, ApiError> {
        #[derive(Deserialize)]
        struct Deleted {
            #[serde(default)]
            result: bool,
        }
        let d: Option<Deleted> = self.call("delete webhook", self.delete_request(id)).await?;
        Ok(d.is_some_and(|d| d.result))
    }

    /// The current token, fetched or renewed when missing or about to expire.
    pub async fn token(&self) -> Result<String, ApiError> {
        let mut cached = self.token.lock().await;
        let renew_before = i64::try_from(self.cfg.token_renew_before.as_millis()).unwrap_or(i64::MAX);
        let now = crate::now_ms();
        if let Some(t) = cached.as_ref() {
            if t.expire_at_ms.saturating_sub(renew_before) > now {
                return Ok(t.value.clone());
            }
        }
        let fresh = self.fetch_token(now).await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    /// Forgets `token` (BH said it is no longer valid) unless already replaced.
    async fn invalidate(&self, token: &str) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.value == token) {
            *cached = None;
        }
    }

    async fn fetch_token(&self, now_ms: i64) -> Result<Token, ApiError> {
        self.token_fetches.fetch_add(1, Ordering::Relaxed);
        let op = "generate token";
        let (status, body) = self.send(op, &self.token_request(now_ms)).await?;
        let data: TokenData = match decode(op, status, &body)? {
            Ok(Some(d)) => d,
            Ok(None) => return Err(unexpected(op, status, "no data in the token answer", &body)),
            Err(refusal) => return Err(refusal),
        };
        let expire_at_ms = match &data.expire_time {
            Value::String(s) => s.trim().parse::<i64>().ok(),
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
        .ok_or_else(|| unexpected(op, status, "expireTime is not a millisecond timestamp", &body))?;
        if data.token.is_empty() {
            return Err(unexpected(op, status, "empty token", &body));
        }
        tracing::debug!(expire_at_ms, "bh token issued");
        Ok(Token {
            value: data.token,
            expire_at_ms,
        })
    }

    /// Sends an authenticated call; renews the token and retries once when
    /// BH says the token is not valid.
    async fn call<T: serde::de::DeserializeOwned>(&self, op: &'static str, request: ApiRequest) -> Result<T, ApiError> {
        let mut retried = false;
        loop {
            let token = self.token().await?;
            let mut req = request.clone();
            req.headers = vec![("X-BH-TOKEN", token.clone())];
            let (status, body) = self.send(op, &req).await?;
            if status == 401 && !retried {
                // Whatever the body says: the token was not accepted.
                tracing::info!(op, "bh answered 401; renewing the token and retrying once");
                self.invalidate(&token).await;
                retried = true;
                continue;
            }
            match decode::<T>(op, status, &body)? {
                Ok(Some(data)) => return Ok(data),
                Ok(None) => {
                    return serde_json::from_value(Value::Null).map_err(|_| unexpected(op, status, "no data", &body))
                }
                Err(refusal) if !retried && self.is_token_error(&refusal) => {
                    tracing::info!(op, error = %refusal, "bh token refused; renewing and retrying once");
                    self.invalidate(&token).await;
                    retried = true;
                }
                Err(refusal) => return Err(refusal),
            }
        }
    }

    /// A refusal whose code says the token is invalid or expired.
    fn is_token_error(&self, e: &ApiError) -> bool {
        e.provider_code()
            .and_then(|c| c.parse::<i64>().ok())
            .is_some_and(|c| self.cfg.token_error_codes.contains(&c))
    }

    async fn send(&self, op: &'static str, req: &ApiRequest) -> Result<(u16, Vec<u8>), ApiError> {
        crate::request::send(&self.http, PROVIDER, op, req).await
    }
}

/// The listener of a create or update answer, when it can be read.
fn listener(data: Option<Value>, op: &'static str) -> Option<Webhook> {
    let data = data?;
    match serde_json::from_value::<Webhook>(data.clone()) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(op, error = %e, answer = %excerpt(data.to_string().as_bytes()), "bh accepted the call but its answer holds no listener that can be read");
            None
        }
    }
}

fn unexpected(op: &'static str, status: u16, what: &str, body: &[u8]) -> ApiError {
    ApiError::Unexpected {
        provider: PROVIDER,
        op,
        http_status: status,
        message: format!("{what}: {}", excerpt(body)),
    }
}

#[derive(Debug, Deserialize)]
struct Envelope<T> {
    code: Value,
    #[serde(default)]
    msg: Option<String>,
    data: Option<T>,
}

/// Reads `{code, msg, data}`: `Ok(Ok(data))` on code 200, `Ok(Err(refusal))`
/// when BH refused, `Err` when the answer is not an envelope at all.
#[allow(clippy::type_complexity)]
fn decode<T: serde::de::DeserializeOwned>(
    op: &'static str,
    status: u16,
    body: &[u8],
) -> Result<Result<Option<T>, ApiError>, ApiError> {
    let envelope: Envelope<Value> =
        serde_json::from_slice(body).map_err(|e| unexpected(op, status, &format!("not a BH envelope ({e})"), body))?;
    let code = match &envelope.code {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if code != "200" || !(200..300).contains(&status) {
        return Ok(Err(ApiError::Provider {
            provider: PROVIDER,
            op,
            http_status: status,
            code,
            message: envelope.msg.unwrap_or_default(),
        }));
    }
    match envelope.data {
        None | Some(Value::Null) => Ok(Ok(None)),
        Some(data) => serde_json::from_value(data).map(|d| Ok(Some(d))).map_err(|e| {
            unexpected(
                op,
                status,
                &format!("data does not match the documented shape ({e})"),
                body,
            )
        }),
    }
}

#[cfg(test)]
mod lenient_tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;

    #[test]
    fn listeners_are_read_as_leniently_as_pushes() {
        let w: Webhook = serde_json::from_str(
            r#"{"webhookId":7000001,"eventType":"ORDER_WEBHOOK","url":null,"status":"10","publicKey":""}"#,
        )
        .unwrap();
        assert_eq!(w.webhook_id, "7000001");
        assert_eq!(w.status, 10);
        assert_eq!(w.url, "");
        assert_eq!(w.public_key, None);
        assert!(serde_json::from_str::<Webhook>(r#"{"eventType":"ORDER_WEBHOOK","status":10}"#).is_err());
        assert_eq!(listener(Some(serde_json::json!({})), "create webhook"), None);
    }
}
