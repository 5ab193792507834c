//! Every source kind besides Keeta general webhooks, over real HTTP against
//! the real services: the provider's exact success answer, 401s for bad,
//! missing and foreign signatures and tampered bodies, redeliveries stored
//! once, and each provider's events arriving typed on the tenant exchange.

use hookgate_app::Role;
use hookgate_config::Verification;
use hookgate_core::Cidr;
use hookgate_providers::Sample;
use hookgate_testkit::{post_sample, receive, TestEnv};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// Source id, an event to send, the success answer (status, exact body, content type prefix).
const KINDS: &[(&str, &str, u16, &str, &str)] = &[
    (
        "keeta-auth",
        "authorized",
        200,
        r#"{"code":0,"message":"success","status":0,"title":"success"}"#,
        "application/json",
    ),
    ("pagsmile-issuing", "authorization", 200, "success", "text/plain"),
    ("pagsmile-payin", "success", 200, "success", "text/plain"),
    ("pagsmile-payout", "paid", 200, "success", "text/plain"),
    (
        "bh",
        "order",
        200,
        r#"{"callbackStatus":"SUCCESS"}"#,
        "application/json",
    ),
    ("webhooks", "invoice.paid", 204, "", ""),
];

/// The provider-shaped failure of a kind.
fn assert_failure(source: &str, status: u16, body: &str, expected_status: u16) {
    assert_eq!(status, expected_status, "{source}: {body}");
    match source {
        "keeta-auth" => {
            let v: Value = serde_json::from_str(body).unwrap();
            assert_eq!(v["status"], expected_status, "{body}");
            assert!(v["title"].is_string(), "{body}");
        }
        "bh" => assert_eq!(body, r#"{"callbackStatus":"FAIL"}"#),
        "webhooks" => assert!(
            serde_json::from_str::<Value>(body).unwrap()["error"].is_string(),
            "{body}"
        ),
        _ => assert!(!body.is_empty() && body != "success", "{source}: {body}"),
    }
}

/// The header carrying the provider credential of a source.
fn credential_header(source: &str) -> &'static str {
    match source {
        "keeta-auth" => "x-app-signature",
        "pagsmile-issuing" | "pagsmile-payout" => "authorization",
        "pagsmile-payin" => "pagsmile-signature",
        "bh" => "signature",
        _ => "webhook-signature",
    }
}

fn without(mut sample: Sample, header: &str) -> Sample {
    sample.headers.retain(|(n, _)| n != header);
    sample
}

#[tokio::test]
async fn every_kind_acks_exactly_and_stores_once() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    for (i, (source, event, status, body, content_type)) in KINDS.iter().enumerate() {
        let sample = env.sample(source, event, 10 + i as u64);
        let url = gw.hook_url(&env.tenant, source);
        for attempt in 0..2 {
            let (got, text, ct) = post_sample(&url, &sample).await;
            assert_eq!((got, text.as_str()), (*status, *body), "{source} attempt {attempt}");
            assert!(ct.starts_with(content_type), "{source}: content-type {ct}");
        }
    }
    // Each kind stored one notification, delivered twice.
    assert_eq!(
        gw.store.count_notifications(&env.tenant_id()).await.unwrap(),
        KINDS.len() as i64
    );
    assert_eq!(gw.store.outbox_stats().await.unwrap().pending, KINDS.len() as i64);
    gw.stop().await;
}

#[tokio::test]
async fn bad_missing_foreign_and_tampered_credentials_are_refused() {
    let env = TestEnv::new().await;
    let other = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    for (i, (source, event, ..)) in KINDS.iter().enumerate() {
        let url = gw.hook_url(&env.tenant, source);
        let kind = env.source(source).kind;
        let good = env.sample(source, event, 100 + i as u64);

        let bad = env.source(source).provider().corrupt_sample(good.clone());
        let (status, body, _) = post_sample(&url, &bad).await;
        assert_failure(source, status, &body, 401);

        let missing = without(good.clone(), credential_header(source));
        let (status, body, _) = post_sample(&url, &missing).await;
        assert_failure(source, status, &body, 401);

        // Signed with another tenant's credentials for the same kind of source
        // (for BH: another webhook's private key; test tenants share the demo key pair).
        let mut foreign = other.sample(source, event, 100 + i as u64);
        if *source == "bh" {
            let pem =
                std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/keys/bh-other-private.pem")).unwrap();
            let key = hookgate_providers::bh::signature::PrivateKey::from_pkcs8_pem(&pem).unwrap();
            foreign.headers = vec![("signature".into(), key.sign_hex(&foreign.body))];
        }
        let (status, body, _) = post_sample(&url, &foreign).await;
        assert_failure(source, status, &body, 401);

        if kind != hookgate_providers::pagsmile::ISSUING {
            // Same credential, body changed after signing (a digit of a value).
            let mut tampered = good.clone();
            let text = String::from_utf8(tampered.body.clone()).unwrap();
            let pos = text.find(|c: char| c.is_ascii_digit() && c != '0').unwrap();
            let mut bytes = text.into_bytes();
            bytes[pos] = if bytes[pos] == b'9' { b'8' } else { bytes[pos] + 1 };
            tampered.body = bytes;
            let (status, body, _) = post_sample(&url, &tampered).await;
            assert_failure(source, status, &body, 401);
        }
    }
    assert_eq!(
        gw.store.count_notifications(&env.tenant_id()).await.unwrap(),
        0,
        "nothing unauthenticated is stored"
    );
    let rejections = gw.store.rejections(Some(&env.tenant_id())).await.unwrap();
    assert!(rejections.len() >= KINDS.len() * 3, "{}", rejections.len());
    let reasons: BTreeMap<&str, usize> = rejections.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r.reason.as_str()).or_default() += 1;
        m
    });
    for reason in ["bad_signature", "missing_signature", "bad_basic_auth"] {
        assert!(reasons.contains_key(reason), "{reasons:?}");
    }
    gw.stop().await;
}

#[tokio::test]
async fn keeta_auth_accepts_hex_and_records_the_recipe() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let mut sample = env.sample("keeta-auth", "cancelled", 7);
    let Some(cfg) = env
        .source("keeta-auth")
        .settings
        .downcast::<hookgate_providers::keeta_auth::Settings>()
    else {
        unreachable!()
    };
    let mac = hookgate_signature::hmac_sha256(cfg.client_secrets[0].expose().as_bytes(), &[&sample.body]);
    sample.headers.retain(|(n, _)| n != "x-app-signature");
    sample.headers.push((
        "x-app-signature".into(),
        mac.iter().map(|b| format!("{b:02x}")).collect(),
    ));
    let (status, _, _) = post_sample(&gw.hook_url(&env.tenant, "keeta-auth"), &sample).await;
    assert_eq!(status, 200);
    let stored = gw.stored(&env.tenant, "keeta-auth", "41015:2").await;
    assert_eq!(stored.signature_recipe.as_deref(), Some("hmac(body)/hex"));
    gw.stop().await;
}

/// A Pagsmile issuing source pinned to its account (`partner_id`, like
/// Keeta's `app_id`) refuses another account's push with a distinct reason,
/// and takes its own and one that names none.
#[tokio::test]
async fn a_pinned_pagsmile_partner_id_refuses_another_account() {
    let env = TestEnv::with(|t| {
        let src = t.source_mut("pagsmile-issuing").unwrap();
        src.settings = std::sync::Arc::new(hookgate_providers::pagsmile::IssuingSettings {
            timestamp_utc_offset_minutes: 0,
            access_configured: true,
            partner_id: Some("100000".into()),
        });
    })
    .await;
    let gw = env.start(Role::Ingress).await;
    let url = gw.hook_url(&env.tenant, "pagsmile-issuing");
    // The samples are account 100000's.
    let own = env.sample("pagsmile-issuing", "card-status", 1);
    assert_eq!(post_sample(&url, &own).await.0, 200);
    let mut other = env.sample_json("pagsmile-issuing", "card-status", 2);
    other["partner_id"] = serde_json::json!("100999");
    let (status, body, _) = post_sample(&url, &env.sign("pagsmile-issuing", other.to_string().into_bytes())).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        gw.metrics
            .rejected_count(&env.tenant, "pagsmile-issuing", "partner_id_mismatch"),
        1
    );
    let stored = gw.store.rejections(Some(&env.tenant_id())).await.unwrap();
    assert_eq!(stored[0].reason, "partner_id_mismatch");
    let mut unnamed = env.sample_json("pagsmile-issuing", "card-status", 3);
    unnamed.as_object_mut().unwrap().remove("partner_id");
    let unnamed = env.sign("pagsmile-issuing", unnamed.to_string().into_bytes());
    assert_eq!(post_sample(&url, &unnamed).await.0, 200, "a push naming no account");
    gw.stop().await;
}

/// The offset a Pagsmile issuing notification is read at is the one its
/// source had when it was received: changing `timestamp_utc_offset` later
/// does not re-time what is already stored (its relay, its replays).
#[tokio::test]
async fn a_pagsmile_notification_keeps_the_offset_it_was_received_with() {
    fn at(minutes: i32) -> impl FnOnce(&mut hookgate_config::Tenant) {
        move |t| {
            let src = t.source_mut("pagsmile-issuing").unwrap();
            src.settings = std::sync::Arc::new(hookgate_providers::pagsmile::IssuingSettings {
                timestamp_utc_offset_minutes: minutes,
                access_configured: true,
                partner_id: None,
            });
        }
    }
    let mut env = TestEnv::with(at(480)).await;
    let gw = env.start(Role::Ingress).await;
    let url = gw.hook_url(&env.tenant, "pagsmile-issuing");
    assert_eq!(
        post_sample(&url, &env.sample("pagsmile-issuing", "card-status", 1))
            .await
            .0,
        200
    );
    gw.stop().await;

    // The operator changes the offset, then the relay runs.
    let mut tenant = env.settings.tenants.iter().next().unwrap().as_ref().clone();
    at(0)(&mut tenant);
    env.settings = hookgate_config::Settings::with_tenants(env.settings.service.clone(), vec![tenant]).unwrap();
    let mut sub = env.subscribe(&["#"]).await;
    let gw = env.start(Role::All).await;
    let got = receive(&mut sub, 1, Duration::from_secs(20)).await;
    let event: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(event["providerUtcOffset"], "+08:00", "{event}");
    gw.stop().await;
}

#[tokio::test]
async fn pagsmile_issuing_access_controls() {
    // Allowlist that excludes loopback, with a trusted proxy header.
    let env = TestEnv::with(|t| {
        let src = t.source_mut("pagsmile-issuing").unwrap();
        src.access.allow_ips = vec![Cidr::parse("203.0.113.0/24").unwrap()];
        src.access.trusted_proxy_header = Some("x-forwarded-for".into());
        // The test client (loopback) plays the last proxy; 10/8 are the others.
        src.access.trusted_proxies = vec![Cidr::parse("127.0.0.0/8").unwrap(), Cidr::parse("10.0.0.0/8").unwrap()];
    })
    .await;
    let gw = env.start(Role::Ingress).await;
    let url = gw.hook_url(&env.tenant, "pagsmile-issuing");
    let sample = env.sample("pagsmile-issuing", "card-status", 1);
    let (status, body, _) = post_sample(&url, &sample).await;
    assert_eq!(status, 403, "{body}");
    // A client that writes an allowed address first gains nothing: the
    // proxy appended the address it really saw.
    let mut spoofed = sample.clone();
    spoofed
        .headers
        .push(("x-forwarded-for".into(), "203.0.113.5, 198.51.100.7".into()));
    let (status, body, _) = post_sample(&url, &spoofed).await;
    assert_eq!(status, 403, "{body}");
    let mut forwarded = sample.clone();
    forwarded
        .headers
        .push(("x-forwarded-for".into(), "203.0.113.9, 10.0.0.1".into()));
    let (status, body, _) = post_sample(&url, &forwarded).await;
    assert_eq!((status, body.as_str()), (200, "success"));
    let stored = gw.store.rejections(Some(&env.tenant_id())).await.unwrap();
    assert_eq!(stored[0].reason, "ip_not_allowed");
    gw.stop().await;

    // Without a trusted proxy header configured, X-Forwarded-For is ignored.
    let env = TestEnv::with(|t| {
        t.source_mut("pagsmile-issuing").unwrap().access.allow_ips = vec![Cidr::parse("203.0.113.0/24").unwrap()];
    })
    .await;
    let gw = env.start(Role::Ingress).await;
    let mut spoofed = env.sample("pagsmile-issuing", "card-status", 2);
    spoofed.headers.push(("x-forwarded-for".into(), "203.0.113.9".into()));
    let (status, _, _) = post_sample(&gw.hook_url(&env.tenant, "pagsmile-issuing"), &spoofed).await;
    assert_eq!(status, 403);
    gw.stop().await;
}

#[tokio::test]
async fn stale_timestamps_are_refused_and_observe_mode_flags() {
    let env = TestEnv::with(|t| t.source_mut("webhooks").unwrap().verification = Verification::Observe).await;
    let gw = env.start(Role::Ingress).await;
    // Pay-in signed an hour ago (t= outside the 300 s tolerance).
    let mut payin = env.sample("pagsmile-payin", "refunded", 3);
    for (name, value) in payin.headers.iter_mut() {
        if name == "pagsmile-signature" {
            let sig = value.split("v2=").nth(1).unwrap().to_owned();
            *value = format!("t={}, v2={sig}", chrono::Utc::now().timestamp() - 3600);
        }
    }
    let (status, body, _) = post_sample(&gw.hook_url(&env.tenant, "pagsmile-payin"), &payin).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        gw.store.rejections(Some(&env.tenant_id())).await.unwrap()[0].reason,
        "stale_timestamp"
    );
    // Observe mode: a bad Standard Webhooks signature is accepted and flagged.
    let bad = (env.source("webhooks").provider()).corrupt_sample(env.sample("webhooks", "customer.created", 4));
    let (status, _, _) = post_sample(&gw.hook_url(&env.tenant, "webhooks"), &bad).await;
    assert_eq!(status, 204);
    let id = bad.headers.iter().find(|(n, _)| n == "webhook-id").unwrap().1.clone();
    let stored = gw.stored(&env.tenant, "webhooks", &id).await;
    assert!(!stored.verified);
    gw.stop().await;
}

#[tokio::test]
async fn every_provider_event_arrives_typed_on_the_exchange() {
    let env = TestEnv::new().await;
    let mut sub = env.subscribe(&["#"]).await;
    let gw = env.start(Role::All).await;
    let mut expected = 0;
    for (source, ..) in KINDS {
        for (i, event) in env.source(source).provider().sample_events().iter().enumerate() {
            let (status, body, _) = post_sample(
                &gw.hook_url(&env.tenant, source),
                &env.sample(source, event, 500 + i as u64),
            )
            .await;
            assert!(status == 200 || status == 204, "{source}/{event}: {status} {body}");
            expected += 1;
        }
    }
    let messages = receive(&mut sub, expected, Duration::from_secs(30)).await;
    let by_key: BTreeMap<String, Value> = messages
        .iter()
        .map(|m| (m.routing_key.clone(), serde_json::from_slice(&m.body).unwrap()))
        .collect();
    let keys: Vec<&str> = by_key.keys().map(String::as_str).collect();
    for key in [
        "keeta.store.authorized",
        "keeta.store.authorization_cancelled",
        "pagsmile.card.application_result",
        "pagsmile.card.status_changed",
        "pagsmile.cardholder.audit_status_changed",
        "pagsmile.card.authorization",
        "pagsmile.card.settlement",
        "pagsmile.card.authorization_expired",
        "pagsmile.card.otp",
        "pagsmile.payment.success",
        "pagsmile.payment.chargeback",
        "pagsmile.payment.refund_processing",
        "pagsmile.payout.paid",
        "pagsmile.payout.partial_refunded",
        "bh.ramp_order.status_changed",
        "bh.global_payment.status_changed",
        "bh.funding.status_changed",
        "bh.stablecoin_payment.status_changed",
        "bh.withdrawal.status_changed",
        "bh.merchant_trade.received",
        "webhooks.invoice.paid",
        "webhooks.customer.created",
    ] {
        assert!(by_key.contains_key(key), "{key} missing from {keys:?}");
    }
    // Typed data, exact money and ids beyond 2^53.
    let auth = &by_key["pagsmile.card.authorization"]["cardAuthorization"];
    assert_eq!(
        auth["transactionAmount"],
        serde_json::json!({"amount": "-7.12", "currency": "CNY"})
    );
    let ramp = &by_key["bh.ramp_order.status_changed"];
    let order_id = ramp["rampOrder"]["orderId"].as_str().unwrap();
    assert!(order_id.parse::<u64>().unwrap() > 1 << 53);
    assert_eq!(ramp["rampOrder"]["statusName"], "released");
    let coin = &by_key["bh.stablecoin_payment.status_changed"];
    assert_eq!(coin["stablecoinPayment"]["depositAmount"]["amount"], "1000.00");
    let coin_raw = messages
        .iter()
        .find(|m| m.routing_key == "bh.stablecoin_payment.status_changed")
        .unwrap();
    assert!(
        String::from_utf8_lossy(&coin_raw.body).contains(r#""depositAmount":1000.00"#),
        "raw keeps the digits"
    );
    assert_eq!(by_key["keeta.store.authorized"]["storeAuthorization"]["opType"], 1);
    assert_eq!(by_key["pagsmile.payout.paid"]["payout"]["status"], "PAID");
    assert_eq!(by_key["webhooks.invoice.paid"]["provider"], "webhooks");
    gw.stop().await;
}

/// Idempotency keys follow business state: a later notification about the
/// same authorization, order or payout in a new state is published inside
/// the dedupe window, and only a true repeat (the same state delivered
/// again under another delivery id) folds.
#[tokio::test]
async fn idempotency_keys_separate_business_transitions_and_fold_true_repeats() {
    let env = TestEnv::new().await;
    let mut sub = env.subscribe(&["#"]).await;
    let gw = env.start(Role::All).await;
    let post = |source: &'static str, payload: Value| {
        let sample = env.sign(source, payload.to_string().into_bytes());
        let url = gw.hook_url(&env.tenant, source);
        async move {
            let (status, body, _) = post_sample(&url, &sample).await;
            assert!(status == 200 || status == 204, "{source}: {status} {body}");
        }
    };
    let mut expected = Vec::new();

    // Pagsmile: one authorization authorized, then reversed, then settled.
    let authorized = env.sample_json("pagsmile-issuing", "authorization", 71);
    post("pagsmile-issuing", authorized.clone()).await;
    let mut reversed = authorized.clone();
    reversed["request_id"] = Value::String(hookgate_testkit::unique("IC-reversal-"));
    reversed["biz_data"]["transaction_id"] = Value::String("100000091999".into());
    reversed["biz_data"]["transaction_type"] = Value::from(152);
    reversed["biz_data"]["process_status"] = Value::from(3);
    post("pagsmile-issuing", reversed).await;
    post(
        "pagsmile-issuing",
        env.sample_json("pagsmile-issuing", "settlement", 71),
    )
    .await;
    // The authorized state again under a new request id: a true repeat.
    let mut repeat = authorized;
    repeat["request_id"] = Value::String(hookgate_testkit::unique("IC-repeat-"));
    post("pagsmile-issuing", repeat).await;
    expected.extend(["card.authorization", "card.authorization", "card.settlement"]);

    // Keeta: the same order accepted, then cancelled.
    for event_id in [1002, 1004] {
        let (body, _) = env.keeta_webhook(event_id, 77);
        assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);
    }
    expected.extend(["order.accepted", "order.cancelled"]);

    // BH: one order through each status; status 60 again later: a repeat.
    let order = env.sample_json("bh", "order", 78);
    for (status, update) in [("50", 1), ("60", 2), ("70", 3), ("60", 4)] {
        let mut o = order.clone();
        o["orderStatus"] = Value::String(status.into());
        o["updateTime"] = Value::String(format!("174056872523{update}"));
        post("bh", o).await;
    }
    expected.extend(["ramp_order.status_changed"; 3]);

    let messages = receive(&mut sub, expected.len(), Duration::from_secs(30)).await;
    hookgate_testkit::assert_no_more(&mut sub, Duration::from_millis(1500)).await;
    let mut types: Vec<String> = messages
        .iter()
        .map(|m| {
            serde_json::from_slice::<Value>(&m.body).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    types.sort();
    expected.sort_unstable();
    assert_eq!(types, expected);
    gw.stop().await;
}
