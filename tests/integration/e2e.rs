//! End to end: a full gateway (ingress + dispatcher) on a random port, signed
//! Keeta webhooks over HTTP, canonical events read from a queue bound to the
//! tenant exchange, their fields asserted.

use hookgate_app::Role;
use hookgate_testkit::{assert_no_more, http, keeta, receive, TestEnv};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

#[tokio::test]
async fn every_keeta_event_arrives_once_as_a_typed_canonical_event() {
    let env = TestEnv::new().await;
    let mut sub = env.subscribe(&["keeta.#"]).await;
    let gw = env.start(Role::All).await;
    let url = gw.hook_url(&env.tenant, "keeta");
    let client = http();

    let mut sent = BTreeMap::new();
    for (i, (event_id, _)) in keeta::EVENTS.iter().enumerate() {
        let (body, message_id) = env.keeta_webhook(*event_id, 1000 + i as u64);
        let r = client.post(&url).body(body.clone()).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        // Provider retry of the same delivery: acknowledged, not republished.
        if *event_id == 1002 {
            let r = client.post(&url).body(body).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200);
        }
        sent.insert(message_id, *event_id);
    }
    // An unknown event id still becomes an event (keeta.unknown) with its raw payload.
    let unknown_env = keeta::envelope(
        1_000_001,
        4242,
        "unknown-1",
        145_541,
        &serde_json::json!({"hello": 1}),
        1_795_000_000,
    );
    let unknown = keeta::signed_body(unknown_env, &env.callback_url, &env.keeta_secret);
    assert_eq!(
        client.post(&url).body(unknown).send().await.unwrap().status().as_u16(),
        200
    );

    let messages = receive(&mut sub, keeta::EVENTS.len() + 1, Duration::from_secs(20)).await;
    assert_no_more(&mut sub, Duration::from_millis(800)).await;

    let mut by_type = BTreeMap::new();
    for m in &messages {
        let e: Value = serde_json::from_slice(&m.body).unwrap();
        assert_eq!(e["tenant"], env.tenant.as_str());
        assert_eq!(e["source"], "keeta");
        assert_eq!(e["provider"], "keeta");
        assert_eq!(e["specVersion"], hookgate_proto::SPEC_VERSION);
        assert_eq!(format!("keeta.{}", e["type"].as_str().unwrap()), m.routing_key);
        assert_eq!(m.message_id.as_deref(), e["id"].as_str());
        assert!(e["notificationId"].is_string(), "int64 travels as a string: {e}");
        assert!(e["receivedAt"].is_string() && e["occurredAt"].is_string());
        assert!(e["raw"].get("sig").is_none(), "sig is not part of raw");
        let message_id = e["raw"]["messageId"].as_str().unwrap().to_owned();
        if let Some(event_id) = sent.get(&message_id) {
            assert_eq!(e["providerEventType"], event_id.to_string());
            assert!(e["raw"]["message"].is_object(), "message expanded: {e}");
        }
        by_type.insert(m.routing_key.clone(), e);
    }
    assert_eq!(by_type.len(), keeta::EVENTS.len() + 1, "{:?}", by_type.keys());

    let accepted = &by_type["keeta.order.accepted"];
    let order = accepted["raw"]["message"]["orderViewId"].as_i64().unwrap();
    assert_eq!(accepted["subject"], format!("order/{order}"));
    assert_eq!(accepted["orderStatus"]["orderViewId"], order.to_string());
    assert_eq!(accepted["orderStatus"]["status"], 30);
    assert_eq!(accepted["idempotencyKey"], format!("keeta:1002:{order}:30"));

    let placed = &by_type["keeta.order.placed"];
    assert_eq!(placed["order"]["items"][0]["name"], "Char siu rice");
    assert_eq!(placed["order"]["items"][0]["quantity"], "2");
    assert_eq!(placed["order"]["tablewareRequested"], true);

    let refund = &by_type["keeta.refund.status_changed"];
    assert_eq!(
        refund["refund"]["amount"],
        serde_json::json!({"amount": "28.00", "currency": "HKD", "amountMinor": "2800"})
    );
    assert_eq!(refund["refund"]["pictures"][0], "https://img.example.com/r1.jpg");
    let partial = &by_type["keeta.refund.partial_status_changed"];
    assert_eq!(partial["refund"]["partial"], true);
    assert_eq!(partial["refund"]["amount"]["amount"], "36.20");
    assert_eq!(partial["refund"]["products"][0]["count"], "1");

    assert_eq!(
        by_type["keeta.order.cancelled"]["orderStatus"]["cancelReason"],
        "Store is too busy"
    );
    assert_eq!(
        by_type["keeta.delivery.status_changed"]["delivery"]["logisticsStatus"],
        20
    );
    assert_eq!(by_type["keeta.store.status_changed"]["storeStatus"]["shopId"], "145541");
    assert_eq!(
        by_type["keeta.store.business_hours_changed"]["businessHours"]["weekly"][0]["day"],
        "mon"
    );
    assert_eq!(
        by_type["keeta.menu.sync_completed"]["menuTask"]["errors"][0]["name"],
        "Egg tart"
    );
    assert_eq!(by_type["keeta.menu.sync_completed"]["menuTask"]["succeeded"], false);
    assert_eq!(
        by_type["keeta.menu.image_binding_completed"]["menuTask"]["succeeded"],
        true
    );
    let unknown = &by_type["keeta.unknown"];
    assert_eq!(unknown["providerEventType"], "4242");
    assert_eq!(unknown["raw"]["message"]["hello"], 1);

    // Everything was published: nothing pending or parked.
    let stats = gw.store.outbox_stats().await.unwrap();
    assert_eq!((stats.pending, stats.parked), (0, 0));
    gw.stop().await;
}

/// Keeta may push 1301/1302 in its general envelope to a `keeta` source:
/// they become the same typed store-authorization events as on a
/// `keeta-auth` source (same type, subject and idempotency key), so one
/// authorization received both ways is published once.
#[tokio::test]
async fn store_authorizations_in_the_general_envelope_are_the_same_events() {
    let env = TestEnv::new().await;
    let mut sub = env.subscribe(&["keeta.store.#"]).await;
    let gw = env.start(Role::All).await;
    let now_ms: i64 = 1_795_000_000_000;
    let auth = serde_json::json!({"clientId": 2_666_245_991u64, "authId": "41050", "opType": 1,
        "shopId": 478_310, "shopName": "10 Shanghai", "createTime": now_ms});
    let envelope = keeta::envelope(
        hookgate_testkit::KEETA_APP_ID,
        1301,
        "auth-1301-a",
        478_310,
        &auth,
        now_ms / 1000,
    );
    let body = keeta::signed_body(envelope, &env.callback_url, &env.keeta_secret);
    assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);
    // A 1302 without `opType`: the event id says it.
    let cancel = serde_json::json!({"clientId": 2_666_245_991u64, "authId": "41051", "shopId": 478_311});
    let envelope = keeta::envelope(
        hookgate_testkit::KEETA_APP_ID,
        1302,
        "auth-1302-a",
        478_311,
        &cancel,
        now_ms / 1000,
    );
    let body = keeta::signed_body(envelope, &env.callback_url, &env.keeta_secret);
    assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);

    let messages = receive(&mut sub, 2, Duration::from_secs(20)).await;
    let events: Vec<Value> = messages
        .iter()
        .map(|m| serde_json::from_slice(&m.body).unwrap())
        .collect();
    let authorized = events.iter().find(|e| e["type"] == "store.authorized").unwrap();
    assert_eq!(authorized["subject"], "store/478310");
    assert_eq!(authorized["idempotencyKey"], "keeta-auth:41050:1");
    assert_eq!(authorized["storeAuthorization"]["authId"], "41050");
    assert_eq!(authorized["providerEventType"], "1301");
    let cancelled = events
        .iter()
        .find(|e| e["type"] == "store.authorization_cancelled")
        .unwrap();
    assert_eq!(cancelled["idempotencyKey"], "keeta-auth:41051:2");
    assert_eq!(cancelled["subject"], "store/478311");

    // The same authorization at the keeta-auth endpoint: one business event, published once.
    let sample = env.sign("keeta-auth", auth.to_string().into_bytes());
    let (status, ..) = hookgate_testkit::post_sample(&gw.hook_url(&env.tenant, "keeta-auth"), &sample).await;
    assert_eq!(status, 200);
    assert_no_more(&mut sub, Duration::from_millis(1500)).await;
    gw.stop().await;
}

/// A verified payload whose shape differs slightly from the model (Keeta
/// 1001 with `products: null`) is published, not parked: the typed fields
/// that can be read, `raw` exact, a warning in the event and a metric.
#[tokio::test]
async fn a_slightly_different_shape_is_published_with_warnings_not_stranded() {
    let env = TestEnv::new().await;
    let mut sub = env.subscribe(&["keeta.#"]).await;
    let gw = env.start(Role::All).await;
    let now_ms: i64 = 1_795_000_000_000;
    let mut message = keeta::message(1001, 5, 145_541, now_ms);
    message["orderInfo"]["products"] = Value::Null;
    let envelope = keeta::envelope(
        hookgate_testkit::KEETA_APP_ID,
        1001,
        "lenient-1001",
        145_541,
        &message,
        now_ms / 1000,
    );
    let body = keeta::signed_body(envelope, &env.callback_url, &env.keeta_secret);
    assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);

    let messages = receive(&mut sub, 1, Duration::from_secs(20)).await;
    let e: Value = serde_json::from_slice(&messages[0].body).unwrap();
    assert_eq!(e["type"], "order.placed");
    assert_eq!(e["order"]["orderViewId"], (553_440_887_574_627i64 + 5).to_string());
    assert!(
        e["raw"]["message"]["orderInfo"]["products"].is_null(),
        "raw stays exact: {e}"
    );
    let warnings = e["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].as_str().unwrap().starts_with("orderInfo.products:"),
        "{warnings:?}"
    );
    assert_eq!(gw.metrics.normalization_warning_count(&env.tenant, "keeta"), 1);
    assert_eq!(gw.store.outbox_stats().await.unwrap().parked, 0);
    gw.stop().await;
}
