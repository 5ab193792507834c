//! Keeta callback URLs (PROVIDERS.md §1a): `POST <base>/api/open/base/callback/url/set`
//! with `{appId, timestamp, eventId, url, isTest, sig}`, one call per event id.
//!
//! `sig` is the Keeta request signature of the Authorization Guide: SHA-256 of
//! `request URL + "?" + the other fields sorted by name as k=v&… + app secret`,
//! lowercase hex (the guide's worked example is the unit test below). Keeta
//! answers `{"code":0,"message":"Success"}`; any other code is a refusal.

use crate::error::excerpt;
use crate::{ApiError, ApiRequest};
use hookgate_config::{KeetaApi, Secret};
use hookgate_providers::keeta::signature::{sign, Params};
use serde::Deserialize;
use serde_json::{json, Map, Value};

const PROVIDER: &str = "keeta";
/// Path of the callback-URL call under the base URL.
pub const CALLBACK_URL_SET_PATH: &str = "/api/open/base/callback/url/set";

/// A Keeta open-platform app.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    app_id: i64,
    app_secret: Secret,
}

impl Client {
    /// A client of app `app_id` (signing with `app_secret`) at `cfg.base_url`.
    pub fn new(cfg: &KeetaApi, app_id: i64, app_secret: Secret) -> Result<Client, ApiError> {
        Ok(Client {
            http: crate::http_client(cfg.timeout)?,
            base_url: cfg.base_url.clone(),
            app_id,
            app_secret,
        })
    }

    /// The signed request setting `url` for `event_id` at `timestamp_secs`.
    pub fn set_callback_url_request(&self, event_id: i64, url: &str, is_test: bool, timestamp_secs: i64) -> ApiRequest {
        let endpoint = format!("{}{CALLBACK_URL_SET_PATH}", self.base_url);
        let mut body = Map::new();
        body.insert("appId".into(), json!(self.app_id));
        // A string, as in the doc example.
        body.insert("timestamp".into(), json!(timestamp_secs.to_string()));
        body.insert("eventId".into(), json!(event_id));
        body.insert("url".into(), json!(url));
        body.insert("isTest".into(), json!(i32::from(is_test)));
        let sig = sign_body(
            &endpoint,
            &Value::Object(body.clone()).to_string(),
            self.app_secret.expose(),
        );
        body.insert("sig".into(), json!(sig));
        ApiRequest {
            method: "POST",
            url: endpoint,
            headers: Vec::new(),
            body: Some(Value::Object(body)),
        }
    }

    /// Sets the callback URL of one event id.
    pub async fn set_callback_url(&self, event_id: i64, url: &str, is_test: bool) -> Result<(), ApiError> {
        let op = "set callback url";
        let req = self.set_callback_url_request(event_id, url, is_test, chrono::Utc::now().timestamp());
        let (status, body) = crate::request::send(&self.http, PROVIDER, op, &req).await?;
        #[derive(Deserialize)]
        struct Answer {
            code: Value,
            #[serde(default)]
            message: Option<String>,
            #[serde(default)]
            msg: Option<String>,
        }
        let answer: Answer = serde_json::from_slice(&body).map_err(|e| ApiError::Unexpected {
            provider: PROVIDER,
            op,
            http_status: status,
            message: format!("not a Keeta answer ({e}): {}", excerpt(&body)),
        })?;
        let code = match &answer.code {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if code == "0" && (200..300).contains(&status) {
            Ok(())
        } else {
            Err(ApiError::Provider {
                provider: PROVIDER,
                op,
                http_status: status,
                code,
                message: answer.message.or(answer.msg).unwrap_or_default(),
            })
        }
    }
}

/// The Keeta request signature of a JSON object body (every field but `sig`;
/// nested objects are rendered as written, in their own key order).
pub fn sign_body(endpoint: &str, body: &str, secret: &str) -> String {
    match Params::from_json(body.as_bytes()) {
        Ok(params) => sign(endpoint, &params, secret),
        // An object always parses back; keep the signature visibly wrong otherwise.
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Authorization Guide's worked example
    /// (<https://api-docs.mykeeta.com/apis/standard/docs/author>).
    #[test]
    fn authorization_guide_vector() {
        let body = r#"{"accessToken":"abc","appId":123,"shopCategory":{"id":123,"name":"test","type":0,"description":null},"shopId":123,"timestamp":"1682566749"}"#;
        assert_eq!(
            sign_body(
                "https://open.mykeeta.com/api/open/product/shopcategory/update",
                body,
                "abc"
            ),
            "48eb6d562bb0673e3db753831f032be237fc19d1e5c33fcb5386d89c0eebca86"
        );
    }

    #[test]
    fn callback_request_is_signed_over_every_other_field() {
        let cfg = KeetaApi {
            base_url: "https://open.mykeeta.com".into(),
            events: vec![1001],
            timeout: std::time::Duration::from_secs(1),
        };
        let client = Client::new(&cfg, 2061048026, Secret::new("s3cret")).unwrap();
        let req = client.set_callback_url_request(1001, "https://h.example/hooks/a/keeta", true, 1723001797);
        let body = req.body.clone().unwrap();
        assert_eq!(body["timestamp"], "1723001797");
        assert_eq!(body["isTest"], 1);
        let pre = "https://open.mykeeta.com/api/open/base/callback/url/set?appId=2061048026&eventId=1001&isTest=1\
                   &timestamp=1723001797&url=https://h.example/hooks/a/keeta"
            .replace(' ', "");
        use sha2::Digest;
        let expected = hex::encode(sha2::Sha256::digest(format!("{pre}s3cret").as_bytes()));
        assert_eq!(body["sig"], expected.as_str());
        assert!(
            !req.to_string().contains(&expected),
            "dry-run output shows the signature"
        );
    }
}
