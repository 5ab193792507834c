//! The stale-state guard on the real stack: an event that would move its
//! subject backwards in the provider's order is published marked stale
//! (proto field and AMQP header), routed to `<key>.stale` or parked as the
//! source's policy says, counted, and shown in the subject's timeline; the
//! recorded states live in PostgreSQL, so a second relay (or a restart)
//! judges against what the first one published.

use hookgate_app::Role;
use hookgate_config::AdminScope::Read;
use hookgate_config::StalePolicy;
use hookgate_dispatcher::{Dispatcher, Received, STALE_HEADER};
use hookgate_store::OutboxStatus;
use hookgate_telemetry::Metrics;
use hookgate_testkit::{assert_no_more, receive, TestEnv, TestGateway};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

async fn env_with(policy: StalePolicy) -> TestEnv {
    TestEnv::with(|t| {
        if let Some(s) = t.source_mut("keeta") {
            s.stale_policy = policy;
        }
    })
    .await
}

async fn relay(env: &TestEnv) -> (Dispatcher, Arc<Metrics>) {
    env.dispatcher(env.settings.service.dispatcher.clone()).await
}

/// Posts Keeta event `event_id` of order `seq` and returns its messageId.
async fn post(env: &TestEnv, gw: &TestGateway, event_id: i64, seq: u64) -> String {
    let (body, message_id) = env.keeta_webhook(event_id, seq);
    assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);
    message_id
}

fn event(m: &Received) -> Value {
    serde_json::from_slice(&m.body).unwrap_or_else(|e| panic!("{e}"))
}

fn is_stale(m: &Received) -> bool {
    let body = event(m)["stale"].as_bool().unwrap_or(false);
    let header = m.headers.get(STALE_HEADER).map(String::as_str) == Some("true");
    assert_eq!(body, header, "the header and the field agree: {:?}", m.headers);
    body
}

#[tokio::test]
async fn accepted_after_cancelled_is_published_marked_stale_and_shown_in_the_timeline() {
    let mut env = env_with(StalePolicy::Mark).await;
    let token = env.admin_token("reader", &[Read], None);
    let gw = env.start(Role::Ingress).await;
    let (relay, metrics) = relay(&env).await;
    let mut sub = env.subscribe(&["keeta.#"]).await;

    // Order 1: cancelled, then (next batch) a delivery update and a late
    // acceptance. Order 2: placed, accepted and completed in order, in one
    // batch, then a cancellation (completed and cancelled are not ordered).
    post(&env, &gw, 1004, 1).await;
    relay.try_once().await.unwrap_or_else(|e| panic!("{e}"));
    post(&env, &gw, 1006, 1).await;
    post(&env, &gw, 1002, 1).await;
    for id in [1001, 1002, 1003, 1004] {
        post(&env, &gw, id, 2).await;
    }
    // And a stale pair inside one batch: cancelled then accepted (order 3).
    post(&env, &gw, 1004, 3).await;
    post(&env, &gw, 1002, 3).await;
    let outcome = relay.try_once().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcome.stale, 2, "{outcome:?}");

    let messages = receive(&mut sub, 9, Duration::from_secs(10)).await;
    let by = |order: &str, key: &str| {
        messages
            .iter()
            .find(|m| m.routing_key == key && event(m)["subject"] == format!("order/{order}"))
            .unwrap_or_else(|| panic!("no {key} of order {order}"))
    };
    let (o1, o2, o3) = ("553440887574628", "553440887574629", "553440887574630");
    let late = by(o1, "keeta.order.accepted");
    assert!(is_stale(late));
    assert_eq!(event(late)["staleBehind"], "keeta.order.cancelled");
    assert!(!is_stale(by(o1, "keeta.order.cancelled")));
    assert!(
        !is_stale(by(o1, "keeta.delivery.status_changed")),
        "a delivery after a cancellation"
    );
    for key in [
        "keeta.order.placed",
        "keeta.order.accepted",
        "keeta.order.completed",
        "keeta.order.cancelled",
    ] {
        assert!(!is_stale(by(o2, key)), "{key} of an order told in order");
    }
    assert!(is_stale(by(o3, "keeta.order.accepted")), "judged within one batch");
    assert!(!is_stale(by(o3, "keeta.order.cancelled")));
    assert_eq!(metrics.stale_count(&env.tenant, "keeta", "mark"), 2);

    // The timeline says which event was stale, and behind what.
    let (status, timeline) = gw
        .admin_get(
            &format!("/v1/subjects/order/{o1}/timeline?tenant={}", env.tenant),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{timeline}");
    let events: Vec<&Value> = timeline["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("{timeline}"))
        .iter()
        .flat_map(|e| e["events"].as_array().into_iter().flatten())
        .collect();
    let marks: Vec<(&str, Option<&str>)> = events
        .iter()
        .map(|e| (e["event_type"].as_str().unwrap_or(""), e["stale_behind"].as_str()))
        .collect();
    assert_eq!(
        marks,
        vec![
            ("order.cancelled", None),
            ("delivery.status_changed", None),
            ("order.accepted", Some("keeta.order.cancelled")),
        ],
        "{timeline}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn the_guard_holds_across_relays_and_restarts() {
    let env = env_with(StalePolicy::Mark).await;
    let gw = env.start(Role::Ingress).await;
    let mut sub = env.subscribe(&["keeta.order.*"]).await;
    {
        let (first, _) = relay(&env).await;
        post(&env, &gw, 1004, 7).await;
        assert_eq!(first.try_once().await.unwrap_or_else(|e| panic!("{e}")).events, 1);
    }
    // Another relay (another process, or this one restarted) knows nothing
    // in memory: the state it judges by is in PostgreSQL.
    let (second, _) = relay(&env).await;
    post(&env, &gw, 1002, 7).await;
    let outcome = second.try_once().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((outcome.events, outcome.stale), (1, 1), "{outcome:?}");
    let messages = receive(&mut sub, 2, Duration::from_secs(10)).await;
    assert!(!is_stale(&messages[0]) && is_stale(&messages[1]));
    gw.stop().await;
}

#[tokio::test]
async fn route_sends_stale_events_to_their_own_key_and_park_keeps_them_for_an_operator() {
    // route: consumers of the usual key never see it; `#.stale` does.
    let env = env_with(StalePolicy::Route).await;
    let gw = env.start(Role::Ingress).await;
    let (relay_a, metrics) = relay(&env).await;
    let mut usual = env.subscribe(&["keeta.order.accepted", "keeta.order.cancelled"]).await;
    let mut stale = env.subscribe(&["#.stale"]).await;
    post(&env, &gw, 1004, 11).await;
    post(&env, &gw, 1002, 11).await;
    relay_a.try_once().await.unwrap_or_else(|e| panic!("{e}"));
    let m = receive(&mut stale, 1, Duration::from_secs(10)).await.remove(0);
    assert_eq!(m.routing_key, "keeta.order.accepted.stale");
    assert!(is_stale(&m));
    assert_eq!(
        m.headers["cloudEvents:type"], "keeta.order.accepted",
        "the event's type is unchanged"
    );
    let u = receive(&mut usual, 1, Duration::from_secs(10)).await.remove(0);
    assert_eq!(u.routing_key, "keeta.order.cancelled");
    assert_no_more(&mut usual, Duration::from_millis(300)).await;
    assert_eq!(metrics.stale_count(&env.tenant, "keeta", "route"), 1);
    gw.stop().await;

    // park: the stale row parks with its reason; nothing is published.
    let env = env_with(StalePolicy::Park).await;
    let gw = env.start(Role::Ingress).await;
    let (relay_b, metrics) = relay(&env).await;
    let mut sub = env.subscribe(&["keeta.#"]).await;
    post(&env, &gw, 1004, 12).await;
    let accepted = post(&env, &gw, 1002, 12).await;
    let outcome = relay_b.try_once().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (outcome.events, outcome.parked, outcome.stale),
        (1, 1, 1),
        "{outcome:?}"
    );
    assert_eq!(
        receive(&mut sub, 1, Duration::from_secs(10)).await[0].routing_key,
        "keeta.order.cancelled"
    );
    assert_no_more(&mut sub, Duration::from_millis(300)).await;
    let stored = gw.stored(&env.tenant, "keeta", &accepted).await;
    let row = gw
        .store
        .outbox_row(stored.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no row"));
    assert_eq!(row.status, OutboxStatus::Parked);
    assert_eq!(
        row.last_error.as_deref(),
        Some("stale: its subject already reached keeta.order.cancelled")
    );
    assert_eq!(metrics.stale_count(&env.tenant, "keeta", "park"), 1);
    gw.stop().await;
}
