//! The outbox relay against the real PostgreSQL, Redis and RabbitMQ, drained
//! deterministically with `Dispatcher::try_once`.

use hookgate_app::Role;
use hookgate_config::RedisSettings;
use hookgate_dispatcher::{Dedupe, Dispatcher, Publisher, Subscription};
use hookgate_telemetry::Metrics;
use hookgate_testkit::{assert_no_more, receive, TestEnv, TestGateway};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

struct Relay {
    dispatcher: Dispatcher,
    publisher: Arc<Publisher>,
    metrics: Arc<Metrics>,
}

async fn relay(env: &TestEnv, redis: RedisSettings, max_attempts: u32) -> Relay {
    let svc = &env.settings.service;
    let publisher = Arc::new(Publisher::new(
        svc.rabbitmq.clone(),
        env.settings.tenants.clone(),
        Duration::from_secs(5),
    ));
    let metrics = Arc::new(Metrics::new());
    let mut settings = svc.dispatcher.clone();
    settings.max_attempts = max_attempts;
    let dispatcher = Dispatcher::new(
        env.store().await,
        publisher.clone(),
        Arc::new(Dedupe::new(redis)),
        env.settings.tenants.clone(),
        metrics.clone(),
        settings,
    );
    Relay {
        dispatcher,
        publisher,
        metrics,
    }
}

async fn send(env: &TestEnv, gw: &TestGateway, body: Vec<u8>) {
    assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);
}

/// Deletes the tenant exchange under an open publisher channel: the next publish fails.
async fn break_tenant_exchange(env: &TestEnv, r: &Relay) {
    r.publisher.connect().await.unwrap();
    let rabbit = &env.settings.service.rabbitmq;
    hookgate_dispatcher::amqp::delete_topology(&rabbit.url, &[env.exchange()], &[])
        .await
        .unwrap();
}

/// Two deliveries (different messageIds) of the same business event.
fn same_event_twice(env: &TestEnv, event_id: i64, seq: u64) -> (Vec<u8>, Vec<u8>) {
    let (a, _) = env.keeta_webhook(event_id, seq);
    let (b, _) = env.keeta_webhook(event_id, seq);
    assert_ne!(a, b, "distinct deliveries");
    (a, b)
}

#[tokio::test]
async fn publishes_with_confirms_and_cloudevents_headers() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let r = relay(&env, env.settings.service.redis.clone(), 5).await;
    let mut sub = env.subscribe(&["keeta.order.*"]).await;
    let (body, message_id) = env.keeta_webhook(1002, 1);
    send(&env, &gw, body).await;

    let outcome = r.dispatcher.try_once().await.unwrap();
    assert_eq!(
        (outcome.claimed, outcome.events, outcome.published),
        (1, 1, 1),
        "{outcome:?}"
    );
    let msg = receive(&mut sub, 1, Duration::from_secs(10)).await.remove(0);
    assert_eq!(msg.routing_key, "keeta.order.accepted");
    assert!(msg.persistent);
    assert_eq!(msg.content_type.as_deref(), Some("application/json"));
    let event: Value = serde_json::from_slice(&msg.body).unwrap();
    assert_eq!(msg.message_id.as_deref(), event["id"].as_str());
    assert_eq!(msg.headers["cloudEvents:id"], event["id"].as_str().unwrap());
    assert_eq!(msg.headers["cloudEvents:specversion"], "1.0");
    assert_eq!(msg.headers["cloudEvents:type"], "keeta.order.accepted");
    assert_eq!(msg.headers["cloudEvents:subject"], event["subject"].as_str().unwrap());
    assert_eq!(
        msg.headers["cloudEvents:source"],
        format!("/hookgate/{}/keeta", env.tenant)
    );
    assert!(msg.headers.contains_key("cloudEvents:time"));
    assert_eq!(event["raw"]["messageId"], message_id);

    let stored = gw.stored(&env.tenant, "keeta", &message_id).await;
    assert_eq!(
        gw.store.outbox_row(stored.id).await.unwrap().unwrap().status,
        hookgate_store::OutboxStatus::Published
    );
    assert_eq!(gw.store.count_published_events(stored.id).await.unwrap(), 1);
    assert_eq!(r.metrics.published_count(&env.tenant, "keeta.order.accepted"), 1);
    assert_eq!(r.dispatcher.try_once().await.unwrap().claimed, 0, "nothing left");
    gw.stop().await;
}

#[tokio::test]
async fn unroutable_events_land_in_the_alternate_queue() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let r = relay(&env, env.settings.service.redis.clone(), 5).await;
    r.publisher.connect().await.unwrap(); // declares the alternate exchange and queue
    let rabbit = &env.settings.service.rabbitmq;
    let mut unrouted = Subscription::existing(&rabbit.url, &rabbit.unrouted_queue)
        .await
        .unwrap();
    // Only store events are bound: an order event has no route.
    let mut bound = env.subscribe(&["keeta.store.#"]).await;
    let (body, _) = env.keeta_webhook(1004, 2);
    send(&env, &gw, body).await;

    let outcome = r.dispatcher.try_once().await.unwrap();
    assert_eq!((outcome.events, outcome.published), (1, 1), "{outcome:?}");
    let msg = receive(&mut unrouted, 1, Duration::from_secs(10)).await.remove(0);
    assert_eq!(msg.routing_key, "keeta.order.cancelled");
    assert_no_more(&mut bound, Duration::from_millis(300)).await;
    gw.stop().await;
}

#[tokio::test]
async fn duplicate_business_events_are_published_once_via_redis() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let r = relay(&env, env.settings.service.redis.clone(), 5).await;
    let mut sub = env.subscribe(&["#"]).await;
    let (a, b) = same_event_twice(&env, 1004, 3);
    send(&env, &gw, a).await;
    send(&env, &gw, b).await;

    let outcome = r.dispatcher.try_once().await.unwrap();
    assert_eq!(
        (outcome.claimed, outcome.published, outcome.events, outcome.duplicates),
        (2, 2, 1, 1),
        "{outcome:?}"
    );
    receive(&mut sub, 1, Duration::from_secs(10)).await;
    assert_no_more(&mut sub, Duration::from_millis(500)).await;
    assert_eq!(r.metrics.dedupe_hit_count(&env.tenant), 1);
    assert_eq!(r.metrics.dedupe_fallback_count(), 0, "Redis was up");
    gw.stop().await;
}

#[tokio::test]
async fn redis_down_falls_back_to_postgres_and_keeps_publishing() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let mut redis = env.settings.service.redis.clone();
    redis.url = "redis://127.0.0.1:1".into(); // nothing listens there
    let r = relay(&env, redis, 5).await;
    let mut sub = env.subscribe(&["#"]).await;
    let (a, b) = same_event_twice(&env, 1002, 4);
    let (c, _) = env.keeta_webhook(1102, 5);
    for body in [a, b, c] {
        send(&env, &gw, body).await;
    }

    let outcome = r.dispatcher.try_once().await.unwrap();
    assert_eq!(
        (outcome.published, outcome.events, outcome.duplicates),
        (3, 2, 1),
        "{outcome:?}"
    );
    let keys: Vec<_> = receive(&mut sub, 2, Duration::from_secs(10))
        .await
        .into_iter()
        .map(|m| m.routing_key)
        .collect();
    assert_eq!(keys, ["keeta.order.accepted", "keeta.store.status_changed"]);
    assert_no_more(&mut sub, Duration::from_millis(500)).await;
    assert!(r.metrics.dedupe_fallback_count() >= 1);
    gw.stop().await;
}

#[tokio::test]
async fn the_dedupe_window_is_the_same_whether_redis_is_up_or_not() {
    // The same business event three times: the second after the window
    // expired (published again), the third within the second's window.
    let mut decisions = Vec::new();
    for redis_up in [true, false] {
        let env = TestEnv::new().await;
        let gw = env.start(Role::Ingress).await;
        let mut redis = env.settings.service.redis.clone();
        redis.dedupe_ttl_secs = 2;
        if !redis_up {
            redis.url = "redis://127.0.0.1:1".into(); // nothing listens there
        }
        let r = relay(&env, redis, 5).await;
        let mut seen = Vec::new();
        for wait in [0, 2500, 300] {
            tokio::time::sleep(Duration::from_millis(wait)).await;
            let (body, _) = env.keeta_webhook(1004, 7);
            send(&env, &gw, body).await;
            let outcome = r.dispatcher.try_once().await.unwrap();
            seen.push((outcome.events, outcome.duplicates));
        }
        assert_eq!(r.metrics.dedupe_fallback_count() > 0, !redis_up);
        decisions.push(seen);
        gw.stop().await;
    }
    assert_eq!(decisions[0], [(1, 0), (1, 0), (0, 1)], "Redis");
    assert_eq!(decisions[1], decisions[0], "PostgreSQL decides as Redis does");
}

#[tokio::test]
async fn a_node_list_is_tried_in_turn() {
    let mut env = TestEnv::new().await;
    let mut sub = env.subscribe(&["#"]).await;
    let rabbit = &mut env.settings.service.rabbitmq;
    // The first node does not answer; the second is the real broker.
    rabbit.url = format!("amqp://guest:guest@127.0.0.1:1/%2f, {}", rabbit.url);
    let gw = env.start(Role::Ingress).await;
    let r = relay(&env, env.settings.service.redis.clone(), 5).await;
    let (body, _) = env.keeta_webhook(1002, 3);
    send(&env, &gw, body).await;
    let outcome = r.dispatcher.try_once().await.unwrap();
    assert_eq!(outcome.published, 1, "{outcome:?}");
    receive(&mut sub, 1, Duration::from_secs(10)).await;
    gw.stop().await;
}

#[tokio::test]
async fn unparseable_verified_payload_is_parked() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let r = relay(&env, env.settings.service.redis.clone(), 5).await;
    let env_body = hookgate_testkit::keeta::envelope(
        hookgate_testkit::KEETA_APP_ID,
        1002,
        "parked-1",
        145_541,
        &Value::String("not json at all".into()),
        1_795_000_000,
    );
    let mut env_body = env_body;
    env_body.insert("message".into(), Value::String("not json at all".into()));
    send(
        &env,
        &gw,
        hookgate_testkit::keeta::signed_body(env_body, &env.callback_url, &env.keeta_secret),
    )
    .await;

    let outcome = r.dispatcher.try_once().await.unwrap();
    assert_eq!((outcome.parked, outcome.published), (1, 0), "{outcome:?}");
    let stored = gw.stored(&env.tenant, "keeta", "parked-1").await;
    let row = gw.store.outbox_row(stored.id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "parked");
    assert!(
        row.last_error.as_deref().is_some_and(|e| e.contains("normalize")),
        "{row:?}"
    );
    assert_eq!(gw.store.outbox_stats().await.unwrap().parked, 1);
    gw.stop().await;
}

#[tokio::test]
async fn failed_publish_is_retried_and_never_marked_before_a_confirm() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let r = relay(&env, env.settings.service.redis.clone(), 5).await;
    break_tenant_exchange(&env, &r).await;
    let (body, message_id) = env.keeta_webhook(1006, 6);
    send(&env, &gw, body).await;
    let id = gw.stored(&env.tenant, "keeta", &message_id).await.id;

    let outcome = r.dispatcher.try_once().await.unwrap();
    assert_eq!((outcome.retried, outcome.published), (1, 0), "{outcome:?}");
    let row = gw.store.outbox_row(id).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 1), "{row:?}");
    assert!(row.last_error.is_some());

    // The next attempt reconnects, redeclares the topology and succeeds.
    let mut sub = env.subscribe(&["#"]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let o = r.dispatcher.try_once().await.unwrap();
        if o.published == 1 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not republished");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        receive(&mut sub, 1, Duration::from_secs(10)).await[0].routing_key,
        "keeta.delivery.status_changed"
    );
    assert_eq!(
        gw.store.outbox_row(id).await.unwrap().unwrap().status.as_str(),
        "published"
    );
    gw.stop().await;
}

#[tokio::test]
async fn publish_failure_after_max_attempts_parks() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let r = relay(&env, env.settings.service.redis.clone(), 1).await;
    break_tenant_exchange(&env, &r).await;
    let (body, message_id) = env.keeta_webhook(1002, 7);
    send(&env, &gw, body).await;

    let outcome = r.dispatcher.try_once().await.unwrap();
    assert_eq!((outcome.parked, outcome.published), (1, 0), "{outcome:?}");
    let id = gw.stored(&env.tenant, "keeta", &message_id).await.id;
    let row = gw.store.outbox_row(id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "parked");
    assert!(
        row.last_error
            .as_deref()
            .is_some_and(|e| e.contains("keeta.order.accepted")),
        "{row:?}"
    );
    assert_eq!(gw.store.count_published_events(id).await.unwrap(), 0);
    gw.stop().await;
}

#[tokio::test]
async fn broker_down_claims_nothing_and_spends_no_attempt() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let svc = &env.settings.service;
    let mut rabbit = svc.rabbitmq.clone();
    rabbit.url = "amqp://guest:guest@127.0.0.1:1/%2f".into(); // nothing listens there
    let publisher = Arc::new(Publisher::new(
        rabbit,
        env.settings.tenants.clone(),
        Duration::from_secs(1),
    ));
    let dispatcher = Dispatcher::new(
        env.store().await,
        publisher,
        Arc::new(Dedupe::new(svc.redis.clone())),
        env.settings.tenants.clone(),
        Arc::new(Metrics::new()),
        svc.dispatcher.clone(),
    );
    let (body, message_id) = env.keeta_webhook(1002, 8);
    send(&env, &gw, body).await;
    for _ in 0..3 {
        assert!(dispatcher.try_once().await.is_err());
    }
    let id = gw.stored(&env.tenant, "keeta", &message_id).await.id;
    let row = gw.store.outbox_row(id).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 0), "{row:?}");
    // The broker is back (the real one): the same row is published.
    let r = relay(&env, svc.redis.clone(), 5).await;
    assert_eq!(r.dispatcher.try_once().await.unwrap().published, 1);
    gw.stop().await;
}

#[tokio::test]
async fn subscriptions_are_declared_and_a_mismatch_is_a_clear_error() {
    use hookgate_config::{QueueType, Subscription as Sub};
    let orders = hookgate_testkit::unique("hookgate-test.orders.");
    let clash = hookgate_testkit::unique("hookgate-test.clash.");
    let dlx = hookgate_testkit::unique("hookgate-test.dlx.");
    let (o, c, d) = (orders.clone(), clash.clone(), dlx.clone());
    let env = TestEnv::with(move |t| {
        t.subscriptions = vec![
            Sub {
                queue: o,
                bindings: vec!["keeta.order.*".into()],
                queue_type: QueueType::Quorum,
                dead_letter_exchange: d.clone(),
            },
            Sub {
                queue: c,
                bindings: vec!["#".into()],
                queue_type: QueueType::Quorum,
                dead_letter_exchange: d,
            },
        ];
    })
    .await;
    let rabbit = &env.settings.service.rabbitmq;
    // A classic queue already holds the name the configuration wants as quorum.
    hookgate_dispatcher::amqp::declare_classic_queue(&rabbit.url, &clash)
        .await
        .unwrap();
    let tenant = env.settings.tenants.iter().next().unwrap().clone();
    let problems = hookgate_dispatcher::amqp::declare_subscriptions_at(rabbit, &tenant)
        .await
        .unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains(&clash) && problems[0].contains("x-queue-type=quorum"),
        "{problems:?}"
    );

    // The gateway still starts, publishes, and the configured queue keeps events
    // that arrive before any consumer exists.
    let gw = env.start(Role::All).await;
    let (body, _) = env.keeta_webhook(1002, 9);
    send(&env, &gw, body).await;
    let mut queued = Subscription::existing(&rabbit.url, &orders).await.unwrap();
    assert_eq!(
        receive(&mut queued, 1, Duration::from_secs(10)).await[0].routing_key,
        "keeta.order.accepted"
    );
    gw.stop().await;
    hookgate_dispatcher::amqp::delete_topology(&rabbit.url, std::slice::from_ref(&dlx), &[orders, clash, dlx.clone()])
        .await
        .unwrap();
}

/// The teardown check is real: a gateway whose relays could not publish an
/// acked webhook fails its test when stopped, unless the test says so.
#[tokio::test]
async fn a_test_gateway_stopping_with_pending_rows_fails_its_test() {
    let mut env = TestEnv::new().await;
    env.settings.service.rabbitmq.url = "amqp://guest:guest@127.0.0.1:1/%2f".into(); // nothing listens there
    let stuck = env.start(Role::All).await;
    let (body, _) = env.keeta_webhook(1002, 9);
    assert_eq!(stuck.post(&env.tenant, "keeta", body).await, 200);
    let stopped = tokio::spawn(stuck.stop()).await;
    let panic = stopped.expect_err("stop() must fail with a pending row").into_panic();
    let message = hookgate_dispatcher::panic_message(panic.as_ref());
    assert!(message.contains("1 pending outbox rows"), "{message}");

    // Said on purpose: the same situation stops quietly.
    let stuck = env.start(Role::All).await;
    stuck.allow_pending();
    stuck.stop().await;
}

/// Pagsmile marks an encrypted `biz_data` with `sign_type` and documents no
/// scheme: the notification is acked and stored (refusing it would only make
/// Pagsmile retry in vain), then parks with `encrypted_payload_unsupported`,
/// counted by reason, without holding anything back.
#[tokio::test]
async fn an_encrypted_pagsmile_notification_is_stored_and_parked_with_its_reason() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let r = relay(&env, env.settings.service.redis.clone(), 5).await;
    let mut payload = env.sample_json("pagsmile-issuing", "card-status", 31);
    payload["biz_data"] = Value::String("q3F0bHp3c2l4ZmFzZGZhc2RmYXNkZmFzZGZhc2Rm".into());
    payload["sign_type"] = Value::String("RSA".into());
    payload["random_key"] = Value::String("c2VjcmV0LWtleS13cmFwcGVk".into());
    let request_id = payload["request_id"].as_str().unwrap().to_owned();
    let sample = env.sign("pagsmile-issuing", payload.to_string().into_bytes());
    let (status, body, _) = hookgate_testkit::post_sample(&gw.hook_url(&env.tenant, "pagsmile-issuing"), &sample).await;
    assert_eq!((status, body.as_str()), (200, "success"));

    let outcome = r.dispatcher.try_once().await.unwrap();
    assert_eq!((outcome.parked, outcome.published), (1, 0), "{outcome:?}");
    let stored = gw.stored(&env.tenant, "pagsmile-issuing", &request_id).await;
    let row = gw.store.outbox_row(stored.id).await.unwrap().unwrap();
    assert_eq!(row.status, hookgate_store::OutboxStatus::Parked);
    assert!(
        row.last_error
            .as_deref()
            .is_some_and(|e| e.contains("encrypted_payload_unsupported")),
        "{row:?}"
    );
    assert_eq!(r.metrics.parked_reason_count("encrypted_payload_unsupported"), 1);
    gw.stop().await;
}

/// Webhooks committed one after another while a relay loop lingers share
/// one claim. Returns the claims that found rows, for `linger_ms`.
async fn claims_for_five_webhooks(linger_ms: u64) -> u64 {
    let mut env = TestEnv::new().await;
    env.settings.service.dispatcher.linger_ms = linger_ms;
    // One relay loop: its claims are the ones counted.
    env.settings.service.dispatcher.concurrency = 1;
    let gw = env.start(Role::All).await;
    let mut sub = env.subscribe(&["keeta.order.*"]).await;
    for seq in 1..=5 {
        let (body, _) = env.keeta_webhook(1002, seq);
        send(&env, &gw, body).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(receive(&mut sub, 5, Duration::from_secs(10)).await.len(), 5);
    let claims = gw.metrics.relay_claim_count("rows");
    gw.stop().await;
    claims
}

#[tokio::test]
async fn webhooks_committed_while_the_relay_lingers_share_one_claim() {
    // Five commits 20 ms apart, all within one 2 s linger (long, so that a
    // loaded machine still posts them within it): one claim, or two when the
    // loop's first claim after its start fell among them.
    let claims = claims_for_five_webhooks(2_000).await;
    assert!((1..=2).contains(&claims), "{claims} claims for 5 webhooks");
}
