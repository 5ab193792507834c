//! Local stand-ins for the providers' management APIs (the only fakes in the
//! test suite: these APIs are outside our control). Each fake checks its
//! credentials the way the provider documents — computed here independently
//! of `hookgate-signature`, so a recipe bug in the client cannot hide behind
//! the same bug in the fake — and answers with the documented shapes,
//! including refusals.

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use hookgate_providers::bh::signature::PrivateKey;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};

const DEMO_PRIVATE: &str = include_str!("../../../config/demo/bh-private.pem");
const OTHER_PRIVATE: &str = include_str!("../../../tests/keys/bh-other-private.pem");

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

fn start_server<F>(configure: F) -> (String, ServerHandle)
where
    F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind fake provider: {e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    let server = HttpServer::new(move || App::new().configure(configure.clone()))
        .listen(listener)
        .unwrap_or_else(|e| panic!("listen: {e}"))
        .workers(1)
        .disable_signals()
        .run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), handle)
}

/// A BH webhook listener as the fake keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeBhWebhook {
    /// Id.
    pub webhook_id: String,
    /// Event type.
    pub event_type: String,
    /// URL.
    pub url: String,
    /// 10, 20 or 30.
    pub status: i32,
    /// Index into the fake's key pairs.
    pub key: usize,
}

#[derive(Debug)]
struct BhState {
    api_key: String,
    api_secret: String,
    token_ttl_ms: i64,
    tokens: HashMap<String, i64>,
    token_requests: u64,
    refused_tokens: u64,
    webhooks: BTreeMap<String, FakeBhWebhook>,
    next_id: u64,
    keys: Vec<PrivateKey>,
    rotate_on_update: bool,
    omit_public_keys: bool,
    fail_next: Option<(i64, String)>,
    refuse_tokens_with_http_401: bool,
    list_missing: bool,
    loose_answers: bool,
    create_without_id: bool,
    fail_create: Option<(i64, String)>,
}

/// A fake BH API: token issuance, webhook create/update/list/delete.
#[derive(Debug)]
pub struct FakeBh {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    state: Arc<Mutex<BhState>>,
    handle: ServerHandle,
}

impl FakeBh {
    /// Starts a fake account with these credentials on a free local port.
    /// Listeners get the demo key pair; after [`FakeBh::rotate_keys_on_update`]
    /// an update hands out a second pair.
    pub fn start(api_key: &str, api_secret: &str) -> FakeBh {
        let keys = [DEMO_PRIVATE, OTHER_PRIVATE]
            .iter()
            .map(|pem| PrivateKey::from_pkcs8_pem(pem).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        let state = Arc::new(Mutex::new(BhState {
            api_key: api_key.to_owned(),
            api_secret: api_secret.to_owned(),
            token_ttl_ms: 2 * 3600 * 1000,
            tokens: HashMap::new(),
            token_requests: 0,
            refused_tokens: 0,
            webhooks: BTreeMap::new(),
            next_id: 1,
            keys,
            rotate_on_update: false,
            omit_public_keys: false,
            fail_next: None,
            refuse_tokens_with_http_401: false,
            list_missing: false,
            loose_answers: false,
            create_without_id: false,
            fail_create: None,
        }));
        let data = web::Data::from(state.clone());
        let (base_url, handle) = start_server(move |cfg| {
            cfg.app_data(data.clone())
                .route("/v2/token/generate", web::get().to(bh_token))
                .route("/openapi/v2/business/webhook", web::post().to(bh_create))
                .route("/v2/webhook/{id}", web::put().to(bh_update))
                .route("/v2/webhook/{id}", web::delete().to(bh_delete))
                .route("/v2/webhooks", web::get().to(bh_list));
        });
        FakeBh {
            base_url,
            state,
            handle,
        }
    }

    fn state(&self) -> MutexGuard<'_, BhState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tokens issued from now on live this long.
    pub fn set_token_ttl_ms(&self, ttl: i64) {
        self.state().token_ttl_ms = ttl;
    }

    /// Every issued token stops being accepted (server-side expiry).
    pub fn expire_tokens(&self) {
        self.state().tokens.clear();
    }

    /// Refuse bad tokens with a bare HTTP 401 (text body) instead of the
    /// `{code: 401}` envelope: BH documents neither.
    pub fn refuse_tokens_with_http_401(&self) {
        self.state().refuse_tokens_with_http_401 = true;
    }

    /// Token requests received (valid or not).
    pub fn token_requests(&self) -> u64 {
        self.state().token_requests
    }

    /// Calls refused for an unknown or expired token.
    pub fn refused_tokens(&self) -> u64 {
        self.state().refused_tokens
    }

    /// From now on, an update gives the listener the second key pair.
    pub fn rotate_keys_on_update(&self) {
        self.state().rotate_on_update = true;
    }

    /// From now on, answers carry no `publicKey` (BH documents it as optional).
    pub fn omit_public_keys(&self) {
        self.state().omit_public_keys = true;
    }

    /// The next management call is refused with this code and message.
    pub fn fail_next(&self, code: i64, msg: &str) {
        self.state().fail_next = Some((code, msg.to_owned()));
    }

    /// From now on, `GET /v2/webhooks` answers 404 with an HTML page (an
    /// account or API version without the undocumented list).
    pub fn remove_list(&self) {
        self.state().list_missing = true;
    }

    /// From now on, answers carry `webhookId` as a JSON number and `status`
    /// as a string (`"10"`), as BH's pushes mix them.
    pub fn loose_answers(&self) {
        self.state().loose_answers = true;
    }

    /// From now on, a create is carried out but answered `{code: 200, data: {}}`.
    pub fn create_without_id(&self) {
        self.state().create_without_id = true;
    }

    /// The next create is refused with this code and message (the calls
    /// before it, a list say, are answered).
    pub fn fail_next_create(&self, code: i64, msg: &str) {
        self.state().fail_create = Some((code, msg.to_owned()));
    }

    /// The listeners.
    pub fn webhooks(&self) -> Vec<FakeBhWebhook> {
        self.state().webhooks.values().cloned().collect()
    }

    /// Signs `body` as BH does for listener `webhook_id` (its current key).
    pub fn sign_push(&self, webhook_id: &str, body: &[u8]) -> String {
        let s = self.state();
        let key = s.webhooks.get(webhook_id).map(|w| w.key).unwrap_or_default();
        s.keys[key].sign_hex(body)
    }

    /// The Base64 DER public key of key pair `index`.
    pub fn public_key(&self, index: usize) -> String {
        self.state().keys[index].public_key_b64()
    }
}

impl Drop for FakeBh {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { handle.stop(false).await });
        }
    }
}

fn bh_answer(code: i64, msg: &str, data: Value) -> HttpResponse {
    HttpResponse::Ok().json(json!({"code": code, "msg": msg, "data": data}))
}

fn bh_webhook_json(s: &BhState, w: &FakeBhWebhook) -> Value {
    let mut v = json!({
        "webhookId": w.webhook_id,
        "eventType": w.event_type,
        "url": w.url,
        "status": w.status,
    });
    if s.loose_answers {
        v["webhookId"] = w
            .webhook_id
            .parse::<u64>()
            .map_or_else(|_| json!(w.webhook_id), |n| json!(n));
        v["status"] = json!(w.status.to_string());
    }
    if !s.omit_public_keys {
        v["publicKey"] = json!(s.keys[w.key].public_key_b64());
    }
    v
}

async fn bh_token(req: HttpRequest, state: web::Data<Mutex<BhState>>) -> HttpResponse {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    s.token_requests += 1;
    let key_ok = req.headers().get("x-bh-apikey").and_then(|v| v.to_str().ok()) == Some(s.api_key.as_str());
    if !key_ok {
        return bh_answer(-1002, "API_KEY_INVALID", Value::Null);
    }
    // The query must be exactly timestamp=<ms>&signature=<hex>.
    let query = req.query_string();
    let Some((signed, signature)) = query.split_once("&signature=") else {
        return bh_answer(-4010, "PARAM_IS_INVALID", Value::Null);
    };
    let Some(ts) = signed.strip_prefix("timestamp=").and_then(|t| t.parse::<i64>().ok()) else {
        return bh_answer(-4010, "PARAM_IS_INVALID", Value::Null);
    };
    if (now_ms() - ts).abs() > 5 * 60 * 1000 {
        return bh_answer(-1021, "TIMESTAMP_OUTSIDE_RECV_WINDOW", Value::Null);
    }
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(s.api_secret.as_bytes()) else {
        return HttpResponse::InternalServerError().finish();
    };
    mac.update(signed.as_bytes());
    if hex::encode(mac.finalize().into_bytes()) != signature {
        return bh_answer(-1022, "SIGNATURE_INVALID", Value::Null);
    }
    let token = uuid::Uuid::new_v4().to_string();
    let expire = now_ms() + s.token_ttl_ms;
    s.tokens.insert(token.clone(), expire);
    bh_answer(
        200,
        "SUCCESS",
        json!({"token": token, "expireTime": expire.to_string()}),
    )
}

/// Checks `X-BH-TOKEN` and a queued failure; `Some` is the refusal to send.
fn bh_refusal(req: &HttpRequest, s: &mut BhState) -> Option<HttpResponse> {
    let token = req
        .headers()
        .get("x-bh-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if s.tokens.get(token).is_none_or(|exp| *exp <= now_ms()) {
        s.refused_tokens += 1;
        if s.refuse_tokens_with_http_401 {
            return Some(HttpResponse::Unauthorized().body("Unauthorized"));
        }
        return Some(bh_answer(401, "TOKEN_EXPIRED", Value::Null));
    }
    s.fail_next.take().map(|(code, msg)| bh_answer(code, &msg, Value::Null))
}

fn valid_url(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .filter(|u| (u.starts_with("https://") || u.starts_with("http://")) && u.len() <= 512)
        .map(str::to_owned)
}

async fn bh_create(req: HttpRequest, body: web::Json<Value>, state: web::Data<Mutex<BhState>>) -> HttpResponse {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(answer) = bh_refusal(&req, &mut s) {
        return answer;
    }
    if let Some((code, msg)) = s.fail_create.take() {
        return bh_answer(code, &msg, Value::Null);
    }
    let event_type = body.get("eventType").and_then(Value::as_str).unwrap_or("");
    let known = [
        "ORDER_WEBHOOK",
        "GLOBAL_PAYMENT_WEBHOOK",
        "FUNDING_WEBHOOK",
        "ON_RAMP_WITHDRAW_WEBHOOK",
        "STABLE_COIN_PAYMENT_WEBHOOK",
        "MERCHANT_TRADE_WEBHOOK",
    ];
    let (true, Some(url)) = (known.contains(&event_type), valid_url(body.get("url"))) else {
        return bh_answer(-4010, "PARAM_IS_INVALID", Value::Null);
    };
    // Loose answers carry numeric ids: make them digits.
    let webhook_id = if s.loose_answers {
        format!("{}", 7_000_000 + s.next_id)
    } else {
        format!("{:032x}", s.next_id)
    };
    s.next_id += 1;
    let w = FakeBhWebhook {
        webhook_id: webhook_id.clone(),
        event_type: event_type.to_owned(),
        url,
        status: 10,
        key: 0,
    };
    let answer = if s.create_without_id {
        json!({})
    } else {
        bh_webhook_json(&s, &w)
    };
    s.webhooks.insert(webhook_id, w);
    bh_answer(200, "SUCCESS", answer)
}

async fn bh_update(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
    state: web::Data<Mutex<BhState>>,
) -> HttpResponse {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(answer) = bh_refusal(&req, &mut s) {
        return answer;
    }
    let status = body.get("status").and_then(Value::as_i64);
    let (Some(url), Some(status @ (10 | 20))) = (valid_url(body.get("url")), status) else {
        return bh_answer(-4010, "PARAM_IS_INVALID", Value::Null);
    };
    let rotate = s.rotate_on_update;
    let Some(w) = s.webhooks.get_mut(path.as_str()).filter(|w| w.status != 30) else {
        return bh_answer(-4010, "PARAM_IS_INVALID", Value::Null);
    };
    w.url = url;
    w.status = status as i32;
    if rotate {
        w.key = 1;
    }
    let w = w.clone();
    let answer = bh_webhook_json(&s, &w);
    bh_answer(200, "SUCCESS", answer)
}

async fn bh_delete(req: HttpRequest, path: web::Path<String>, state: web::Data<Mutex<BhState>>) -> HttpResponse {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(answer) = bh_refusal(&req, &mut s) {
        return answer;
    }
    match s.webhooks.get_mut(path.as_str()).filter(|w| w.status != 30) {
        Some(w) => {
            w.status = 30;
            bh_answer(200, "SUCCESS", json!({"result": true}))
        }
        None => bh_answer(-4010, "PARAM_IS_INVALID", Value::Null),
    }
}

async fn bh_list(req: HttpRequest, state: web::Data<Mutex<BhState>>) -> HttpResponse {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    if s.list_missing {
        return HttpResponse::NotFound()
            .content_type("text/html")
            .body("<html><body>404 Not Found</body></html>");
    }
    if let Some(answer) = bh_refusal(&req, &mut s) {
        return answer;
    }
    let status = req
        .query_string()
        .split('&')
        .find_map(|p| p.strip_prefix("status="))
        .and_then(|v| v.parse::<i32>().ok());
    let list: Vec<Value> = s
        .webhooks
        .values()
        .filter(|w| status.is_none_or(|st| w.status == st))
        .map(|w| bh_webhook_json(&s, w))
        .collect();
    bh_answer(200, "SUCCESS", Value::Array(list))
}

/// One accepted Keeta callback-URL call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeKeetaCallback {
    /// Event id.
    pub event_id: i64,
    /// URL set.
    pub url: String,
    /// Test-store set.
    pub is_test: bool,
}

#[derive(Debug)]
struct KeetaState {
    base_url: String,
    app_id: i64,
    app_secret: String,
    callbacks: BTreeMap<(i64, bool), FakeKeetaCallback>,
    refused: Vec<String>,
    fail_next: Option<(i64, String)>,
}

/// A fake Keeta open platform: `POST /api/open/base/callback/url/set`.
#[derive(Debug)]
pub struct FakeKeeta {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    state: Arc<Mutex<KeetaState>>,
    handle: ServerHandle,
}

impl FakeKeeta {
    /// Starts a fake for one app on a free local port.
    pub fn start(app_id: i64, app_secret: &str) -> FakeKeeta {
        let state = Arc::new(Mutex::new(KeetaState {
            base_url: String::new(),
            app_id,
            app_secret: app_secret.to_owned(),
            callbacks: BTreeMap::new(),
            refused: Vec::new(),
            fail_next: None,
        }));
        let data = web::Data::from(state.clone());
        let (base_url, handle) = start_server(move |cfg| {
            cfg.app_data(data.clone())
                .route("/api/open/base/callback/url/set", web::post().to(keeta_set));
        });
        state.lock().unwrap_or_else(|e| e.into_inner()).base_url = base_url.clone();
        FakeKeeta {
            base_url,
            state,
            handle,
        }
    }

    fn state(&self) -> MutexGuard<'_, KeetaState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The callback URLs set, by (event id, test).
    pub fn callbacks(&self) -> Vec<FakeKeetaCallback> {
        self.state().callbacks.values().cloned().collect()
    }

    /// Why calls were refused, in order.
    pub fn refused(&self) -> Vec<String> {
        self.state().refused.clone()
    }

    /// The next call is refused with this code and message.
    pub fn fail_next(&self, code: i64, msg: &str) {
        self.state().fail_next = Some((code, msg.to_owned()));
    }
}

impl Drop for FakeKeeta {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { handle.stop(false).await });
        }
    }
}

/// The Authorization Guide's pre-image, built from scratch: every field but
/// `sig` sorted by name, strings raw, other values as compact JSON.
fn keeta_expected_sig(url: &str, body: &[u8], secret: &str) -> String {
    let fields: BTreeMap<String, Box<RawValue>> = serde_json::from_slice(body).unwrap_or_default();
    let joined: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k.as_str() != "sig")
        .map(|(k, raw)| {
            let v = match serde_json::from_str::<Value>(raw.get()) {
                Ok(Value::String(s)) => s,
                Ok(Value::Null) => String::new(),
                _ => raw.get().to_owned(),
            };
            format!("{k}={v}")
        })
        .collect();
    hex::encode(Sha256::digest(format!("{url}?{}{secret}", joined.join("&")).as_bytes()))
}

async fn keeta_set(body: web::Bytes, state: web::Data<Mutex<KeetaState>>) -> HttpResponse {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    let answer = |code: i64, message: &str| HttpResponse::Ok().json(json!({"code": code, "message": message}));
    let refuse = |s: &mut KeetaState, code: i64, message: &str| {
        s.refused.push(message.to_owned());
        answer(code, message)
    };
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&body) else {
        return refuse(&mut s, 400, "body is not a JSON object");
    };
    for required in ["appId", "timestamp", "eventId", "url", "isTest", "sig"] {
        if !fields.contains_key(required) {
            return refuse(&mut s, 400, &format!("missing {required}"));
        }
    }
    if fields["appId"].as_i64() != Some(s.app_id) {
        return refuse(&mut s, 401, "appId unknown");
    }
    let ts = match &fields["timestamp"] {
        Value::String(t) => t.parse::<i64>().ok(),
        other => other.as_i64(),
    };
    if ts.is_none_or(|t| (now_ms() / 1000 - t).abs() > 600) {
        return refuse(&mut s, 401, "timestamp expired");
    }
    let url = format!("{}/api/open/base/callback/url/set", s.base_url);
    if fields["sig"].as_str() != Some(keeta_expected_sig(&url, &body, &s.app_secret).as_str()) {
        return refuse(&mut s, 401, "sig invalid");
    }
    if let Some((code, msg)) = s.fail_next.take() {
        return refuse(&mut s, code, &msg);
    }
    let (Some(event_id), Some(target), Some(is_test @ (0 | 1))) = (
        fields["eventId"].as_i64(),
        fields["url"].as_str(),
        fields["isTest"].as_i64(),
    ) else {
        return refuse(&mut s, 400, "invalid eventId, url or isTest");
    };
    s.callbacks.insert(
        (event_id, is_test == 1),
        FakeKeetaCallback {
            event_id,
            url: target.to_owned(),
            is_test: is_test == 1,
        },
    );
    answer(0, "Success")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fake_keeta_recipe_reproduces_the_guide_vector() {
        let body = br#"{"accessToken":"abc","appId":123,"shopCategory":{"id":123,"name":"test","type":0,"description":null},"shopId":123,"timestamp":"1682566749"}"#;
        assert_eq!(
            keeta_expected_sig(
                "https://open.mykeeta.com/api/open/product/shopcategory/update",
                body,
                "abc"
            ),
            "48eb6d562bb0673e3db753831f032be237fc19d1e5c33fcb5386d89c0eebca86"
        );
    }
}
