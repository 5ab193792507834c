//! Every answer of `POST /hooks/{tenant}/{source}` for Keeta, over real HTTP,
//! against the real PostgreSQL.

use hookgate_app::Role;
use hookgate_config::Verification;
use hookgate_providers::keeta;
use hookgate_testkit::{http, keeta_source, TestEnv};
use serde_json::Value;

const SUCCESS: &str = r#"{"code":0,"message":"success","data":{}}"#;

async fn post(url: &str, body: impl Into<reqwest::Body>) -> (u16, String, reqwest::header::HeaderMap) {
    let r = http()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.text().await.unwrap(), headers)
}

#[tokio::test]
async fn signed_webhook_is_committed_then_acknowledged() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let (body, message_id) = env.keeta_webhook(1002, 1);
    let (status, text, _) = post(&gw.hook_url(&env.tenant, "keeta"), body.clone()).await;
    assert_eq!((status, text.as_str()), (200, SUCCESS));

    let stored = gw.stored(&env.tenant, "keeta", &message_id).await;
    assert_eq!(stored.body, body, "raw body must be stored byte-exact");
    assert_eq!(stored.kind, "keeta");
    assert_eq!(stored.delivery_count, 1);
    assert!(stored.verified);
    assert_eq!(stored.signature_recipe.as_deref(), Some("callback_url?params+secret"));
    assert!(stored
        .remote_addr
        .as_deref()
        .is_some_and(|a| a.starts_with("127.0.0.1:")));
    let headers = stored.headers.as_array().unwrap();
    assert!(headers
        .iter()
        .any(|h| h["name"] == "content-type" && h["value"] == "application/json"));
    let outbox = gw.store.outbox_row(stored.id).await.unwrap().expect("outbox row");
    assert_eq!(outbox.status.as_str(), "pending");
    gw.stop().await;
}

#[tokio::test]
async fn redelivery_gets_the_same_answer_and_is_stored_once() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let (body, message_id) = env.keeta_webhook(1004, 2);
    for _ in 0..3 {
        let (status, text, _) = post(&gw.hook_url(&env.tenant, "keeta"), body.clone()).await;
        assert_eq!((status, text.as_str()), (200, SUCCESS));
    }
    let stored = gw.stored(&env.tenant, "keeta", &message_id).await;
    assert_eq!(stored.delivery_count, 3);
    assert_eq!(gw.store.count_notifications(&env.tenant_id()).await.unwrap(), 1);
    assert_eq!(
        gw.store.outbox_stats().await.unwrap().pending,
        1,
        "one outbox row, not three"
    );
    gw.stop().await;
}

#[tokio::test]
async fn bad_missing_and_foreign_signatures_are_401_and_recorded() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let url = gw.hook_url(&env.tenant, "keeta");
    let (good, _) = env.keeta_webhook(1002, 3);

    let corrupted = hookgate_testkit::keeta::corrupt_signature(&good);
    let mut unsigned: serde_json::Map<String, Value> = serde_json::from_slice(&good).unwrap();
    unsigned.remove("sig");
    let unsigned = Value::Object(unsigned).to_string();
    // Signed with another tenant's secret.
    let other = TestEnv::new().await;
    let (foreign, _) = {
        let mut e = env.keeta_webhook(1002, 4);
        let v: serde_json::Map<String, Value> = serde_json::from_slice(&e.0).unwrap();
        e.0 = hookgate_testkit::keeta::signed_body(v, &env.callback_url, &other.keeta_secret);
        e
    };
    // Tampered: signed body with the status changed afterwards.
    let tampered = String::from_utf8(good.clone())
        .unwrap()
        .replace("\\\"status\\\":30", "\\\"status\\\":50");
    assert_ne!(tampered.as_bytes(), good.as_slice());

    // No delivery of the source has verified yet: a signature the
    // candidate recipes do not reproduce says so.
    for (body, reason) in [
        (corrupted, "no_recipe_matched_yet"),
        (unsigned.into_bytes(), "missing_signature"),
        (foreign, "no_recipe_matched_yet"),
        (tampered.into_bytes(), "no_recipe_matched_yet"),
    ] {
        let (status, text, _) = post(&url, body).await;
        assert_eq!(status, 401, "{reason}: {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["code"], 401);
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
        let _ = reason;
    }
    let rejections = gw.store.rejections(Some(&env.tenant_id())).await.unwrap();
    let reasons: Vec<_> = rejections.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(
        reasons.iter().filter(|r| **r == "no_recipe_matched_yet").count(),
        3,
        "{reasons:?}"
    );
    assert_eq!(
        reasons.iter().filter(|r| **r == "missing_signature").count(),
        1,
        "{reasons:?}"
    );
    assert!(rejections.iter().all(|r| r.http_status == 401 && !r.body.is_empty()));
    assert_eq!(
        gw.store.count_notifications(&env.tenant_id()).await.unwrap(),
        0,
        "nothing unverified is stored"
    );
    assert_eq!(
        gw.metrics.rejected_count(&env.tenant, "keeta", "no_recipe_matched_yet"),
        3
    );
    assert_eq!(gw.metrics.refused_onboarding_count(&env.tenant, "keeta"), 4);
    gw.stop().await;
}

#[tokio::test]
async fn unknown_tenant_or_source_is_404() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let (body, _) = env.keeta_webhook(1002, 5);
    let (status, text, _) = post(&gw.hook_url("no-such-tenant", "keeta"), body.clone()).await;
    assert_eq!(status, 404, "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["code"], 404);
    let (status, _, _) = post(&gw.hook_url(&env.tenant, "nope"), body).await;
    assert_eq!(status, 404);
    let mine = gw.store.rejections(Some(&env.tenant_id())).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].reason, "unknown_source");
    // An unknown tenant is counted, never stored (anyone can invent paths).
    let unknown = gw.store.rejections(None).await.unwrap();
    assert!(unknown.is_empty(), "{unknown:?}");
    assert_eq!(
        gw.metrics
            .rejection_unrecorded_count("unknown", "unknown", "unknown_tenant"),
        1
    );
    gw.stop().await;
}

#[tokio::test]
async fn oversized_body_is_413() {
    let env = TestEnv::with(|t| {
        t.source_mut("keeta").unwrap().body_limit_bytes = 512;
    })
    .await;
    let gw = env.start(Role::Ingress).await;
    let (body, _) = env.keeta_webhook(1001, 6);
    assert!(body.len() > 512);
    let (status, text, _) = post(&gw.hook_url(&env.tenant, "keeta"), body.clone()).await;
    assert_eq!(status, 413, "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["code"], 413);
    // Chunked (no Content-Length): the limit holds while streaming.
    let status = post_chunked(&gw.base_url, &format!("/hooks/{}/keeta", env.tenant), &body).await;
    assert_eq!(status, 413);
    let rejections = gw.store.rejections(Some(&env.tenant_id())).await.unwrap();
    assert_eq!(rejections.len(), 2);
    assert!(rejections
        .iter()
        .all(|r| r.reason == "body_too_large" && r.body_size > 512));
    gw.stop().await;
}

/// Sends `body` with `Transfer-Encoding: chunked` (100-byte chunks) over a raw
/// connection and returns the status code.
async fn post_chunked(base_url: &str, path: &str, body: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base_url.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(100) {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    // The server may answer and close before reading everything: ignore write errors.
    let _ = conn.write_all(&req).await;
    let mut response = Vec::new();
    let _ = conn.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[tokio::test]
async fn malformed_bodies_are_400() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let url = gw.hook_url(&env.tenant, "keeta");
    for body in [
        &b"not json"[..],
        b"[1,2,3]",
        br#"{"sig":"ab","eventId":1002,"message":"{}"}"#,
        br#"{"sig":"ab","messageId":"1","message":"{}"}"#,
    ] {
        let (status, text, _) = post(&url, body.to_vec()).await;
        assert_eq!(status, 400, "{}: {text}", String::from_utf8_lossy(body));
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["code"], 400);
    }
    let rejections = gw.store.rejections(Some(&env.tenant_id())).await.unwrap();
    assert_eq!(rejections.len(), 4);
    assert!(rejections.iter().all(|r| r.reason == "bad_request"));
    assert_eq!(gw.metrics.rejected_count(&env.tenant, "keeta", "bad_request"), 4);
    gw.stop().await;
}

#[tokio::test]
async fn heartbeats_get_success_and_store_nothing() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    for body in ["", "{}", " { } "] {
        let (status, text, _) = post(&gw.hook_url(&env.tenant, "keeta"), body.to_owned()).await;
        assert_eq!((status, text.as_str()), (200, SUCCESS), "{body:?}");
    }
    assert_eq!(gw.store.count_notifications(&env.tenant_id()).await.unwrap(), 0);
    assert!(gw.store.rejections(Some(&env.tenant_id())).await.unwrap().is_empty());
    gw.stop().await;
}

#[tokio::test]
async fn observe_mode_accepts_and_flags_unverified_pushes() {
    let env = TestEnv::with(|t| {
        for s in t.sources.values_mut() {
            s.verification = Verification::Observe;
        }
    })
    .await;
    let gw = env.start(Role::Ingress).await;
    let (good, message_id) = env.keeta_webhook(1002, 7);
    let bad = hookgate_testkit::keeta::corrupt_signature(&good);
    let (status, text, _) = post(&gw.hook_url(&env.tenant, "keeta"), bad).await;
    assert_eq!((status, text.as_str()), (200, SUCCESS));
    let stored = gw.stored(&env.tenant, "keeta", &message_id).await;
    assert!(!stored.verified);
    assert_eq!(stored.signature_recipe, None);
    assert!(gw.metrics.render().contains("hookgate_webhooks_unverified_total"));
    gw.stop().await;
}

#[tokio::test]
async fn rotated_secrets_and_recipes_are_recorded() {
    let env = TestEnv::with(|t| {
        let old = keeta_source(
            "keeta",
            "old-secret",
            "https://hooks.example.test/old",
            Verification::Enforce,
        );
        let src = t.source_mut("keeta").unwrap();
        let mut k = src.settings.downcast::<keeta::Settings>().unwrap().clone();
        let o = old.settings.downcast::<keeta::Settings>().unwrap();
        k.app_secrets.extend(o.app_secrets.iter().cloned());
        src.settings = std::sync::Arc::new(k);
    })
    .await;
    let gw = env.start(Role::Ingress).await;
    let (body, message_id) = env.keeta_webhook(1102, 8);
    let mut v: serde_json::Map<String, Value> = serde_json::from_slice(&body).unwrap();
    v.remove("sig");
    // Signed with the second (older) secret and no URL at all.
    let params =
        hookgate_providers::keeta::signature::Params::from_json(Value::Object(v.clone()).to_string().as_bytes())
            .unwrap();
    let sig = hex_sha256(&format!("{}old-secret", params.joined()));
    v.insert("sig".into(), Value::String(sig));
    let (status, text, _) = post(&gw.hook_url(&env.tenant, "keeta"), Value::Object(v).to_string()).await;
    assert_eq!((status, text.as_str()), (200, SUCCESS));
    let stored = gw.stored(&env.tenant, "keeta", &message_id).await;
    assert_eq!(stored.signature_recipe.as_deref(), Some("params+secret#secret1"));
    gw.stop().await;
}

fn hex_sha256(s: &str) -> String {
    let d = hookgate_providers::keeta::signature::digest("", "", s, "");
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn database_unreachable_is_503_never_2xx() {
    use hookgate_ingress::{IngressServer, IngressState};
    use hookgate_store::{PoolConfig, Store};
    use std::sync::Arc;
    use std::time::Duration;

    let env = TestEnv::new().await;
    // Port 1 on loopback: nothing listens there.
    let pool = PoolConfig {
        max_connections: 2,
        acquire_timeout: Duration::from_millis(500),
    };
    let store = Store::connect_lazy("postgres://postgres@127.0.0.1:1/hookgate", &pool).unwrap();
    let metrics = Arc::new(hookgate_telemetry::Metrics::new());
    let state = Arc::new(IngressState::new(
        env.settings.tenants.clone(),
        store.clone(),
        metrics.clone(),
        2,
        64,
    ));
    let admin_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    admin_listener.set_nonblocking(true).unwrap();
    let admin_state = Arc::new(hookgate_admin::AdminState::new(store, metrics.clone(), Vec::new()));
    let admin = hookgate_admin::AdminServer::build(admin_listener, admin_state).unwrap();
    let admin_url = format!("http://127.0.0.1:{}", admin.port());
    let admin_handle = admin.handle();
    let admin_task = tokio::spawn(admin.run());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let server = IngressServer::build(listener, state, 1, Duration::from_secs(1), shutdown.clone()).unwrap();
    let base = format!("http://127.0.0.1:{}", server.port());
    let task = tokio::spawn(server.run());

    for seq in 0..3 {
        let (body, _) = env.keeta_webhook(1002, 100 + seq);
        let (status, text, headers) = post(&format!("{base}/hooks/{}/keeta", env.tenant), body).await;
        assert_eq!(status, 503, "{text}");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["code"], 503);
        assert!(headers.contains_key("retry-after"));
    }
    assert_eq!(metrics.rejected_count(&env.tenant, "keeta", "storage_unavailable"), 3);
    let ready = http().get(format!("{admin_url}/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    shutdown.cancel();
    let _ = task.await;
    admin_handle.stop(true).await;
    let _ = admin_task.await;
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::All).await;
    let health = http().get(format!("{}/healthz", gw.base_url)).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let ready = http().get(format!("{}/readyz", gw.admin_url)).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["checks"]["postgres"], "ok");
    assert_eq!(ready["checks"]["rabbitmq"], "ok");
    assert_eq!(ready["checks"]["redis"], "ok");

    let (body, _) = env.keeta_webhook(1002, 9);
    post(&gw.hook_url(&env.tenant, "keeta"), body).await;
    post(&gw.hook_url(&env.tenant, "keeta"), "garbage".to_owned()).await;
    let text = gw.metrics_text().await;
    let t = &env.tenant;
    for needle in [
        format!(r#"hookgate_webhooks_received_total{{tenant="{t}",source="keeta"}} 2"#),
        format!(r#"hookgate_webhooks_accepted_total{{tenant="{t}",source="keeta",outcome="new"}} 1"#),
        format!(r#"hookgate_webhooks_rejected_total{{tenant="{t}",source="keeta",reason="bad_request"}} 1"#),
        "hookgate_outbox_pending".to_owned(),
    ] {
        assert!(text.contains(&needle), "missing {needle} in\n{text}");
    }
    gw.stop().await;
}

#[tokio::test]
async fn concurrent_redeliveries_share_a_commit_and_fold_into_one_row() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let (body, message_id) = env.keeta_webhook(1002, 77);
    let url = gw.hook_url(&env.tenant, "keeta");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (url, body) = (url.clone(), body.clone());
        tasks.push(tokio::spawn(async move { post(&url, body).await }));
    }
    for t in tasks {
        let (status, text, _) = t.await.unwrap();
        assert_eq!((status, text.as_str()), (200, SUCCESS));
    }
    let stored = gw.stored(&env.tenant, "keeta", &message_id).await;
    assert_eq!(stored.delivery_count, 20);
    assert_eq!(gw.store.count_notifications(&env.tenant_id()).await.unwrap(), 1);
    assert_eq!(gw.store.outbox_stats().await.unwrap().pending, 1);
    gw.stop().await;
}

/// A provider that appends a fixed path to a configured host (Keeta's
/// `POST /webhook/authorization`) reaches the source that declares that path,
/// chosen by the request's `Host` among the tenant's host names.
#[tokio::test]
async fn a_fixed_path_on_a_tenant_host_reaches_its_source() {
    let env = TestEnv::with(|t| {
        t.hosts = vec!["hooks.acme.example".into()];
        t.source_mut("keeta-auth").unwrap().paths = vec!["/webhook/authorization".into()];
    })
    .await;
    let gw = env.start(Role::Ingress).await;
    let sample = env.sample("keeta-auth", "authorized", 3);
    let url = format!("{}/webhook/authorization", gw.base_url);
    let send = |host: &'static str| {
        let mut r = http()
            .post(&url)
            .header("host", host)
            .header("content-type", "application/json");
        for (name, value) in &sample.headers {
            r = r.header(name, value);
        }
        r.body(sample.body.clone()).send()
    };
    let r = send("Hooks.Acme.Example:443").await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    let key =
        hookgate_providers::delivery_key(hookgate_providers::keeta_auth::KIND, &sample.body, &Vec::new()).unwrap();
    let stored = gw.stored(&env.tenant, "keeta-auth", key.as_str()).await;
    assert!(stored.verified);

    // Another host: the path names nothing there.
    let r = send("hooks.other.example").await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    // Only POST.
    let r = http()
        .get(&url)
        .header("host", "hooks.acme.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(r.headers()["allow"], "POST");
    gw.stop().await;
}

/// A tenant whose `keeta-auth` source answers the fixed path
/// `/webhook/authorization` on `hooks.acme.example` and verifies only the
/// URL-covering recipe, with a configured callback URL that is not the one
/// called (so only the request's own URL can verify); and its client secret.
async fn fixed_path_env() -> (TestEnv, String) {
    use hookgate_providers::keeta_auth::{self, signature::Recipe};
    let env = TestEnv::with(|t| {
        t.hosts = vec!["hooks.acme.example".into()];
        let source = t.source_mut("keeta-auth").unwrap();
        source.paths = vec!["/webhook/authorization".into()];
        let old = source.settings.downcast::<keeta_auth::Settings>().unwrap().clone();
        source.settings = std::sync::Arc::new(keeta_auth::Settings {
            callback_url: "https://gw.example/hooks/acme/keeta-auth".into(),
            recipes: vec![Recipe::UrlBody],
            ..old
        });
    })
    .await;
    let secret = (env.source("keeta-auth").settings.downcast::<keeta_auth::Settings>())
        .map(|s| s.client_secrets[0].expose().to_owned())
        .unwrap();
    (env, secret)
}

/// Keeta calls `https://<host>/webhook/authorization` and, for the recipes
/// that sign a URL, signs that one: a source whose configured callback URL is
/// another still verifies it, over the URL the request arrived at (its
/// scheme from the proxy's `X-Forwarded-Proto`). A heartbeat (empty body or
/// `{}`) is answered with the success body both documented schemas read.
#[tokio::test]
async fn keeta_authorizations_through_a_fixed_path_verify_over_the_url_keeta_called() {
    use hookgate_providers::keeta_auth;
    let (env, secret) = fixed_path_env().await;
    let gw = env.start(Role::Ingress).await;
    let body = (env.source("keeta-auth").provider())
        .sample_body("authorized", 5, 1_753_151_456_973)
        .unwrap();
    let called = "https://hooks.acme.example/webhook/authorization";
    let mac = hookgate_signature::hmac_sha256(secret.as_bytes(), &[called.as_bytes(), b"&", &body]);
    let url = format!("{}/webhook/authorization", gw.base_url);
    let post = |body: Vec<u8>, sig: Option<String>| {
        let mut r = http()
            .post(&url)
            .header("host", "hooks.acme.example")
            .header("x-forwarded-proto", "https")
            .header("content-type", "application/json");
        if let Some(sig) = sig {
            r = r.header("x-app-signature", sig);
        }
        r.body(body).send()
    };
    let r = post(body.clone(), Some(hookgate_signature::encode_base64(&mac)))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let answer: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        answer,
        serde_json::json!({"code": 0, "message": "success", "status": 0, "title": "success"})
    );
    let key = hookgate_providers::delivery_key(keeta_auth::KIND, &body, &Vec::new()).unwrap();
    let stored = gw.stored(&env.tenant, "keeta-auth", key.as_str()).await;
    assert!(stored.verified);
    assert_eq!(
        stored.signature_recipe.as_deref(),
        Some("hmac(url&body)@request-url/base64")
    );

    // Signed over another URL: refused.
    let wrong = hookgate_signature::hmac_sha256(secret.as_bytes(), &[b"https://elsewhere.example/x&", &body]);
    let r = post(body.clone(), Some(hookgate_signature::encode_base64(&wrong)))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    // Keeta's probe: answered with success, stored nowhere.
    for probe in [&b""[..], b"{}", b" { } "] {
        let r = post(probe.to_vec(), None).await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{:?}", String::from_utf8_lossy(probe));
        let answer: serde_json::Value = r.json().await.unwrap();
        assert_eq!(answer["code"], 0);
        assert_eq!(answer["title"], "success");
    }
    gw.stop().await;
}

/// The scheme of the URL a signature covers and a rejection stores comes
/// from `X-Forwarded-Proto` only when a trusted proxy (`http.trusted_proxies`)
/// sends it: from a loopback proxy (the default) the provider's `https` is
/// believed; with no trusted proxy the listener's own `http` stands, and a
/// signature over the https URL does not verify.
#[tokio::test]
async fn x_forwarded_proto_is_believed_from_trusted_proxies_only() {
    let called = "https://hooks.acme.example/webhook/authorization";
    for (trusted, status, stored_scheme) in [(true, 200, "https"), (false, 401, "http")] {
        let (mut env, secret) = fixed_path_env().await;
        if !trusted {
            env.settings.service.http.trusted_proxies.clear();
        }
        let token = env.admin_token("reader", &[hookgate_config::AdminScope::Read], None);
        let gw = env.start(Role::Ingress).await;
        let body = (env.source("keeta-auth").provider())
            .sample_body("authorized", 9, 1_753_151_456_973)
            .unwrap();
        let sign = |url: &str| {
            hookgate_signature::encode_base64(&hookgate_signature::hmac_sha256(
                secret.as_bytes(),
                &[url.as_bytes(), b"&", &body],
            ))
        };
        let post = |sig: String| {
            http()
                .post(format!("{}/webhook/authorization", gw.base_url))
                .header("host", "hooks.acme.example")
                .header("x-forwarded-proto", "https")
                .header("content-type", "application/json")
                .header("x-app-signature", sig)
                .body(body.clone())
                .send()
        };
        let r = post(sign(called)).await.unwrap();
        assert_eq!(r.status().as_u16(), status, "trusted proxy: {trusted}");
        // A refused one (signed over another URL) is stored with the URL as read.
        let r = post(sign("https://elsewhere.example/x")).await.unwrap();
        assert_eq!(r.status().as_u16(), 401);
        let (code, page) = gw
            .admin_get(&format!("/v1/rejections?tenant={}", env.tenant), Some(&token))
            .await;
        assert_eq!(code, 200, "{page}");
        let url = page["items"][0]["request_url"].as_str().unwrap_or_default().to_owned();
        assert_eq!(
            url,
            format!("{stored_scheme}://hooks.acme.example/webhook/authorization")
        );
        gw.stop().await;
    }
}

/// Writes a self-signed certificate for 127.0.0.1 and its key as PEM files.
fn write_certificate(dir: &std::path::Path) -> Vec<u8> {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), cert.key_pair.serialize_pem()).unwrap();
    cert.cert.der().to_vec()
}

/// The certificate a fresh TLS connection to `url` is served.
async fn served_certificate(url: &str) -> Vec<u8> {
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .tls_info(true)
        .build()
        .unwrap();
    let r = client.get(url).send().await.unwrap();
    let info = r.extensions().get::<reqwest::tls::TlsInfo>().unwrap();
    info.peer_certificate().unwrap().to_vec()
}

/// Native TLS: the listener serves the configured certificate, accepts a
/// signed webhook over HTTPS, and serves a renewed certificate without a
/// restart once its files change.
#[tokio::test]
async fn native_tls_serves_the_certificate_and_reloads_it_when_renewed() {
    let dir = std::env::temp_dir().join(hookgate_testkit::unique("hookgate-tls-"));
    std::fs::create_dir_all(&dir).unwrap();
    let first = write_certificate(&dir);
    let mut env = TestEnv::new().await;
    env.settings.service.http.tls_cert_file = dir.join("cert.pem").display().to_string();
    env.settings.service.http.tls_key_file = dir.join("key.pem").display().to_string();
    env.settings.service.http.tls_reload_check_ms = 50;
    let gw = env.start(Role::Ingress).await;
    let https = gw.base_url.replace("http://", "https://");

    assert_eq!(served_certificate(&format!("{https}/healthz")).await, first);
    let (body, _) = env.keeta_webhook(1002, 41);
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let r = client
        .post(format!("{https}/hooks/{}/keeta", env.tenant))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Plain HTTP on the TLS port gets no answer.
    assert!(http().get(format!("{}/healthz", gw.base_url)).send().await.is_err());

    // Renewed: a new connection gets the new certificate.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let second = write_certificate(&dir);
    assert_ne!(first, second);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let _ = served_certificate(&format!("{https}/healthz")).await; // notices the change
    assert_eq!(served_certificate(&format!("{https}/healthz")).await, second);
    gw.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
