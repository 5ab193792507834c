//! The admin API against the real services: authentication and scopes,
//! search, detail, timeline, replay (one, by filter, to one queue, cancel,
//! restart), parked requeue, rejections and re-admission, tenants, audit,
//! retention (row by row and by partition) and erasure.

use hookgate_app::Role;
use hookgate_config::AdminScope::{Operate, Read, ReadPayload};
use hookgate_config::Settings;
use hookgate_store::PARTITION_IDS;
use hookgate_testkit::{assert_no_more, http, receive, TestEnv, TestGateway};
use serde_json::{json, Value};
use std::time::Duration;

/// Posts Keeta webhooks of one order (`seq`): events 1001, 1002, 1003.
async fn post_order(env: &TestEnv, gw: &TestGateway, seq: u64) -> Vec<String> {
    let mut keys = Vec::new();
    for event in [1001, 1002, 1003] {
        let (body, message_id) = env.keeta_webhook(event, seq);
        assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);
        keys.push(message_id);
    }
    keys
}

/// Waits until `n` notifications of the tenant are published.
async fn published(gw: &TestGateway, token: &str, tenant: &str, n: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, page) = gw
            .admin_get(
                &format!("/v1/notifications?tenant={tenant}&status=published&limit=500"),
                Some(token),
            )
            .await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if items.len() >= n {
            return items;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {n} published",
            items.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn every_admin_route_needs_a_token_with_its_scope_and_tenant() {
    let mut env = TestEnv::new().await;
    let tenant = env.tenant.clone();
    let reader = env.admin_token("reader", &[Read], None);
    let payload = env.admin_token("payload", &[ReadPayload], None);
    let operator = env.admin_token("operator", &[Operate], None);
    let elsewhere = env.admin_token("elsewhere", &[Read, ReadPayload, Operate], Some(&["some-other-tenant"]));
    let gw = env.start(Role::All).await;
    post_order(&env, &gw, 1).await;
    let first = published(&gw, &reader, &tenant, 3).await;
    let id = first[0]["id"].as_i64().unwrap();

    let reads = [
        "/v1/notifications".to_owned(),
        format!("/v1/notifications/{id}"),
        "/v1/parked".to_owned(),
        "/v1/rejections".to_owned(),
        "/v1/replays".to_owned(),
        "/v1/tenants".to_owned(),
        "/v1/audit".to_owned(),
        format!("/v1/subjects/order/1/timeline?tenant={tenant}"),
        "/v1/retention".to_owned(),
        "/v1/partitions".to_owned(),
        "/v1/config/reload".to_owned(),
    ];
    for path in &reads {
        let (status, body) = gw.admin_get(path, None).await;
        assert_eq!(status, 401, "{path} without a token: {body}");
        assert_eq!(body["error"], "unauthorized");
        assert_eq!(gw.admin_get(path, Some("not-a-token")).await.0, 401, "{path}");
        assert_eq!(gw.admin_get(path, Some(&reader)).await.0, 200, "{path} with read");
        assert_eq!(
            gw.admin_get(path, Some(&payload)).await.0,
            200,
            "read_payload includes read: {path}"
        );
        assert_eq!(
            gw.admin_get(path, Some(&operator)).await.0,
            403,
            "{path} with operate only"
        );
    }
    let writes = [
        (format!("/v1/notifications/{id}/replay"), json!({})),
        ("/v1/replays".to_owned(), json!({"filter": {"tenant": tenant}})),
        ("/v1/parked/requeue".to_owned(), json!({"filter": {}})),
        ("/v1/rejections/1/readmit".to_owned(), json!({})),
        ("/v1/replays/1/cancel".to_owned(), json!({})),
        ("/v1/retention/run".to_owned(), json!({})),
        (
            "/v1/erasures".to_owned(),
            json!({"tenant": tenant, "subject": "order/1"}),
        ),
        ("/v1/config/reload".to_owned(), json!({})),
    ];
    for (path, body) in &writes {
        assert_eq!(gw.admin_post(path, None, body.clone()).await.0, 401, "{path}");
        let (status, answer) = gw.admin_post(path, Some(&reader), body.clone()).await;
        assert_eq!(status, 403, "{path} with read only: {answer}");
        assert_eq!(answer["error"], "forbidden");
    }

    // Payload only with read_payload.
    let (_, detail) = gw.admin_get(&format!("/v1/notifications/{id}"), Some(&reader)).await;
    assert!(detail.get("payload").is_none(), "{detail}");
    assert_eq!(detail["events"].as_array().map(Vec::len), Some(1), "{detail}");
    let (_, detail) = gw.admin_get(&format!("/v1/notifications/{id}"), Some(&payload)).await;
    let body = detail["payload"]["body_text"].as_str().unwrap();
    assert!(body.contains("orderViewId"), "{detail}");

    // A token limited to another tenant sees nothing of this one.
    let (status, _) = gw
        .admin_get(&format!("/v1/notifications?tenant={tenant}"), Some(&elsewhere))
        .await;
    assert_eq!(status, 403);
    let (status, page) = gw.admin_get("/v1/notifications", Some(&elsewhere)).await;
    assert_eq!(
        (status, page["items"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{page}"
    );
    assert_eq!(
        gw.admin_get(&format!("/v1/notifications/{id}"), Some(&elsewhere))
            .await
            .0,
        404
    );
    let (status, _) = gw
        .admin_post(&format!("/v1/notifications/{id}/replay"), Some(&elsewhere), json!({}))
        .await;
    assert_eq!(status, 404);
    let (_, tenants) = gw.admin_get("/v1/tenants", Some(&elsewhere)).await;
    assert_eq!(tenants, json!([]));

    // A known token's refused mutating calls are audited too.
    let (_, audit) = gw.admin_get("/v1/audit?limit=100", Some(&reader)).await;
    let refused = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["token"] == "reader" && e["status"] == 403)
        .count();
    assert_eq!(refused, writes.len(), "{audit}");
    gw.stop().await;
}

#[tokio::test]
async fn notifications_are_searched_shown_and_told_as_a_subject_timeline() {
    let mut env = TestEnv::new().await;
    let tenant = env.tenant.clone();
    let token = env.admin_token("ops", &[Read, ReadPayload], None);
    let gw = env.start(Role::All).await;
    let keys = post_order(&env, &gw, 7).await;
    post_order(&env, &gw, 8).await;
    let all = published(&gw, &token, &tenant, 6).await;
    assert_eq!(all.len(), 6);
    // Newest first.
    let ids: Vec<i64> = all.iter().map(|n| n["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");

    // By delivery key.
    let (_, page) = gw
        .admin_get(
            &format!("/v1/notifications?tenant={tenant}&delivery_key={}", keys[1]),
            Some(&token),
        )
        .await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["delivery_key"], keys[1].as_str());
    assert_eq!(items[0]["status"], "published");
    let subject = items[0]["subject"].as_str().unwrap().to_owned();
    assert!(subject.starts_with("order/"), "{subject}");

    // By subject, and pages that continue with the cursor.
    let (_, page) = gw
        .admin_get(&format!("/v1/notifications?subject={subject}&limit=2"), Some(&token))
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "{page}");
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let (_, rest) = gw
        .admin_get(
            &format!("/v1/notifications?subject={subject}&limit=2&cursor={cursor}"),
            Some(&token),
        )
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1, "{rest}");
    assert!(rest.get("next_cursor").is_none(), "{rest}");

    // Time range and bad input.
    let (_, none) = gw
        .admin_get("/v1/notifications?until=2001-01-01T00:00:00Z", Some(&token))
        .await;
    assert_eq!(none["items"], json!([]));
    for bad in ["status=sent", "limit=0", "cursor=abc", "since=yesterday"] {
        let (status, body) = gw.admin_get(&format!("/v1/notifications?{bad}"), Some(&token)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("bad_request")),
            "{bad}: {body}"
        );
    }

    // One in full: outbox state, events with routing keys, raw request.
    let id = items[0]["id"].as_i64().unwrap();
    let (status, detail) = gw.admin_get(&format!("/v1/notifications/{id}"), Some(&token)).await;
    assert_eq!(status, 200);
    // Published: the outbox row (and its attempt count) is gone; the publish
    // time is its events'.
    assert_eq!(detail["notification"]["status"], "published", "{detail}");
    assert_eq!(detail["notification"]["attempts"], Value::Null, "{detail}");
    assert!(detail["notification"]["published_at"].is_string(), "{detail}");
    assert!(detail["notification"]["signature_recipe"].is_string(), "{detail}");
    let event = &detail["events"][0];
    assert!(
        event["routing_key"].as_str().unwrap().starts_with("keeta.order."),
        "{detail}"
    );
    assert!(event["published_at"].is_string());
    let stored = gw.stored(&tenant, "keeta", &keys[1]).await;
    let body = detail["payload"]["body_base64"].as_str().unwrap();
    use base64::Engine;
    assert_eq!(
        base64::engine::general_purpose::STANDARD.decode(body).unwrap(),
        stored.body
    );
    assert_eq!(gw.admin_get("/v1/notifications/999999999", Some(&token)).await.0, 404);

    // The subject's timeline: its three notifications in commit order, with events.
    let (status, timeline) = gw
        .admin_get(
            &format!("/v1/subjects/{subject}/timeline?tenant={tenant}"),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{timeline}");
    let entries = timeline["entries"].as_array().unwrap();
    let keys_in_order: Vec<&str> = entries
        .iter()
        .map(|e| e["notification"]["delivery_key"].as_str().unwrap())
        .collect();
    assert_eq!(keys_in_order, keys.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        entries.iter().all(|e| e["events"].as_array().unwrap().len() == 1),
        "{timeline}"
    );
    let encoded = subject.replace('/', "%2F");
    let (_, same) = gw
        .admin_get(
            &format!("/v1/subjects/{encoded}/timeline?tenant={tenant}"),
            Some(&token),
        )
        .await;
    assert_eq!(same["entries"].as_array().map(Vec::len), Some(3), "{same}");
    gw.stop().await;
}

#[tokio::test]
async fn replay_one_and_by_filter_republishes_the_same_events_marked_with_the_job() {
    let mut env = TestEnv::new().await;
    let tenant = env.tenant.clone();
    let token = env.admin_token("ops", &[Read, Operate], None);
    let mut sub = env.subscribe(&["keeta.#"]).await;
    let gw = env.start(Role::All).await;
    post_order(&env, &gw, 11).await;
    let first = receive(&mut sub, 3, Duration::from_secs(20)).await;
    assert!(first.iter().all(|m| !m.headers.contains_key("x-hookgate-replay-job")));
    let all = published(&gw, &token, &tenant, 3).await;

    // One notification: a job of one, the same event id, marked with the job.
    let id = all[0]["id"].as_i64().unwrap();
    let (status, job) = gw
        .admin_post(&format!("/v1/notifications/{id}/replay"), Some(&token), json!({}))
        .await;
    assert_eq!(status, 202, "{job}");
    let job_id = job["id"].as_i64().unwrap();
    let again = receive(&mut sub, 1, Duration::from_secs(20)).await;
    assert_eq!(again[0].headers.get("x-hookgate-replay-job"), Some(&job_id.to_string()));
    let original = first
        .iter()
        .find(|m| m.message_id == again[0].message_id)
        .expect("the replay keeps the deterministic event id");
    assert_eq!(original.routing_key, again[0].routing_key);
    let done = gw.replay_finished(job_id, &token, Duration::from_secs(10)).await;
    assert_eq!(
        (done["status"].as_str(), done["replayed"].as_i64()),
        (Some("done"), Some(1)),
        "{done}"
    );
    // Its end is a notice: one `replay_finished` incident, resolved, naming the job.
    let (_, notices) = gw
        .admin_get("/v1/incidents?scope=all&kind=replay_finished", Some(&token))
        .await;
    let notices = notices["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0]["cause"], job_id.to_string());
    assert_eq!(notices[0]["state"], "resolved");
    assert_eq!(notices[0]["tenant"], tenant.as_str());

    // By filter: the plan first (nothing published), then the job it planned.
    let filter = json!({"tenant": tenant, "source": "keeta"});
    let (status, plan) = gw
        .admin_post("/v1/replays", Some(&token), json!({"filter": filter}))
        .await;
    assert_eq!(status, 200, "a dry run by default: {plan}");
    assert_eq!(plan["count"], 3);
    assert_eq!(plan["sample"].as_array().map(Vec::len), Some(3));
    assert_no_more(&mut sub, Duration::from_millis(500)).await;
    let (status, job) = gw
        .admin_post("/v1/replays", Some(&token), json!({"filter": filter, "dry_run": false}))
        .await;
    assert_eq!(status, 202, "{job}");
    assert_eq!(job["planned"], plan["count"]);
    let job_id = job["id"].as_i64().unwrap();
    let replayed = receive(&mut sub, 3, Duration::from_secs(20)).await;
    assert!(replayed
        .iter()
        .all(|m| m.headers.get("x-hookgate-replay-job") == Some(&job_id.to_string())));
    let mut ids: Vec<_> = replayed.iter().map(|m| m.message_id.clone()).collect();
    let mut originals: Vec<_> = first.iter().map(|m| m.message_id.clone()).collect();
    ids.sort();
    originals.sort();
    assert_eq!(ids, originals, "same events, dedupe bypassed");
    let done = gw.replay_finished(job_id, &token, Duration::from_secs(10)).await;
    assert_eq!(
        (done["replayed"].as_i64(), done["failed"].as_i64()),
        (Some(3), Some(0)),
        "{done}"
    );
    assert_no_more(&mut sub, Duration::from_millis(500)).await;

    // A filter that chooses nothing makes no job; a job needs a tenant.
    let (status, _) = gw
        .admin_post(
            "/v1/replays",
            Some(&token),
            json!({"filter": {"tenant": tenant, "source": "nope"}, "dry_run": false}),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = gw
        .admin_post("/v1/replays", Some(&token), json!({"filter": {}, "dry_run": false}))
        .await;
    assert_eq!(status, 400);

    // Every mutating call is in the audit log with its token.
    let (_, audit) = gw.admin_get("/v1/audit", Some(&token)).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "replay.create",
            "replay.create",
            "replay.create",
            "replay.plan",
            "notification.replay"
        ],
        "{audit}"
    );
    assert!(audit["items"].as_array().unwrap().iter().all(|e| e["token"] == "ops"));
    gw.stop().await;
}

#[tokio::test]
async fn a_replay_to_one_queue_reaches_only_that_queue() {
    let queue = hookgate_testkit::unique("hookgate-test.replay.");
    let q = queue.clone();
    let mut env = TestEnv::with(move |t| {
        t.subscriptions = vec![hookgate_config::Subscription {
            queue: q,
            bindings: vec!["keeta.#".into()],
            queue_type: hookgate_config::QueueType::Classic,
            dead_letter_exchange: hookgate_config::DEFAULT_DLX.into(),
        }];
    })
    .await;
    let tenant = env.tenant.clone();
    let token = env.admin_token("ops", &[Read, Operate], None);
    let mut b = env.subscribe(&["keeta.#"]).await;
    let gw = env.start(Role::All).await;
    let url = &env.settings.service.rabbitmq.url;
    let mut a = hookgate_dispatcher::Subscription::existing(url, &queue).await.unwrap();
    post_order(&env, &gw, 21).await;
    receive(&mut a, 3, Duration::from_secs(20)).await;
    receive(&mut b, 3, Duration::from_secs(20)).await;
    published(&gw, &token, &tenant, 3).await;
    let (status, job) = gw
        .admin_post(
            "/v1/replays",
            Some(&token),
            json!({"filter": {"tenant": tenant}, "queue": queue, "dry_run": false}),
        )
        .await;
    assert_eq!(status, 202, "{job}");
    let got = receive(&mut a, 3, Duration::from_secs(20)).await;
    // Delivered through the default exchange: the routing key is the queue;
    // the event's own routing key travels as the CloudEvents type.
    assert!(got.iter().all(|m| m.routing_key == queue), "{:?}", got[0].routing_key);
    assert!(
        got.iter().all(|m| m
            .headers
            .get("cloudEvents:type")
            .is_some_and(|t| t.starts_with("keeta.order."))),
        "{:?}",
        got[0].headers
    );
    assert_no_more(&mut b, Duration::from_millis(800)).await;
    gw.replay_finished(job["id"].as_i64().unwrap(), &token, Duration::from_secs(10))
        .await;

    // A queue the tenant's configuration does not declare is refused, even
    // for an unlimited token: the default exchange reaches every queue.
    for other in ["hookgate-test.no-such-queue", b.queue.as_str()] {
        let (status, refused) = gw
            .admin_post(
                "/v1/replays",
                Some(&token),
                json!({"filter": {"tenant": tenant}, "queue": other, "dry_run": false}),
            )
            .await;
        assert_eq!(status, 403, "{refused}");
    }
    gw.stop().await;
}

/// Waits until a job has replayed something (its first batch is out).
async fn replayed_some(gw: &TestGateway, id: i64, token: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, job) = gw.admin_get(&format!("/v1/replays/{id}"), Some(token)).await;
        if job["replayed"].as_i64().unwrap_or(0) > 0 {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_replay_job_can_be_cancelled_and_survives_a_restart() {
    let mut env = TestEnv::new().await;
    let tenant = env.tenant.clone();
    let token = env.admin_token("ops", &[Read, Operate], None);
    let mut sub = env.subscribe(&["keeta.#"]).await;
    let gw = env.start(Role::All).await;
    for seq in 0..5 {
        post_order(&env, &gw, 100 + seq).await;
    }
    receive(&mut sub, 15, Duration::from_secs(20)).await;
    published(&gw, &token, &tenant, 15).await;

    // Cancel mid-job: 4 per second over 15.
    let (_, job) = gw
        .admin_post(
            "/v1/replays",
            Some(&token),
            json!({"filter": {"tenant": tenant}, "rate_per_sec": 4, "dry_run": false}),
        )
        .await;
    let id = job["id"].as_i64().unwrap();
    replayed_some(&gw, id, &token).await;
    let (status, cancelled) = gw
        .admin_post(&format!("/v1/replays/{id}/cancel"), Some(&token), json!({}))
        .await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (200, Some("cancelled")),
        "{cancelled}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, after) = gw.admin_get(&format!("/v1/replays/{id}"), Some(&token)).await;
    let done = after["replayed"].as_i64().unwrap();
    assert!((1..15).contains(&done), "cancelled mid-way: {after}");
    let mut got = 0;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(300), sub.next()).await {
        got += 1;
    }
    assert_eq!(got, done, "no message after the cancel beyond what the job counted");
    assert_eq!(
        gw.admin_post(&format!("/v1/replays/{id}/cancel"), Some(&token), json!({}))
            .await
            .0,
        409
    );

    // Restart mid-job: the next gateway goes on from the stored cursor.
    let (_, job) = gw
        .admin_post(
            "/v1/replays",
            Some(&token),
            json!({"filter": {"tenant": tenant}, "rate_per_sec": 5, "dry_run": false}),
        )
        .await;
    let id = job["id"].as_i64().unwrap();
    replayed_some(&gw, id, &token).await;
    gw.stop().await;
    let (_, mid) = {
        let gw2 = env.start(Role::Ingress).await;
        let r = gw2.admin_get(&format!("/v1/replays/{id}"), Some(&token)).await;
        gw2.stop().await;
        r
    };
    let before = mid["replayed"].as_i64().unwrap();
    assert!((1..15).contains(&before), "stopped mid-way: {mid}");
    assert_eq!(mid["status"], "running", "let go of, not ended: {mid}");
    let gw = env.start(Role::All).await;
    let done = gw.replay_finished(id, &token, Duration::from_secs(20)).await;
    assert_eq!(
        (done["status"].as_str(), done["replayed"].as_i64()),
        (Some("done"), Some(15)),
        "{done}"
    );
    let mut got = 0;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(500), sub.next()).await {
        got += 1;
    }
    assert_eq!(got, 15, "every notification once across the restart");
    gw.stop().await;
}

#[tokio::test]
async fn parked_notifications_are_listed_and_requeued_to_be_normalized_again() {
    let mut env = TestEnv::new().await;
    let tenant = env.tenant.clone();
    let token = env.admin_token("ops", &[Read, Operate], None);
    let mut sub = env.subscribe(&["keeta.#"]).await;

    // A relay configured without the tenant cannot publish its events; with
    // one attempt allowed, they park.
    let ingress = env.start(Role::Ingress).await;
    post_order(&env, &ingress, 31).await;
    let mut blind = Settings::with_tenants(env.settings.service.clone(), Vec::new()).unwrap();
    blind.service.dispatcher.max_attempts = 1;
    let relay = hookgate_app::Gateway::build(
        &blind,
        Role::Dispatcher,
        hookgate_app::Listeners {
            http: None,
            admin: Some(std::net::TcpListener::bind("127.0.0.1:0").unwrap()),
        },
        tokio_util::sync::CancellationToken::new(),
    )
    .await
    .unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(relay.run(stop.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let parked = loop {
        let (status, page) = ingress.admin_get("/v1/parked", Some(&token)).await;
        assert_eq!(status, 200);
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if items.len() == 3 {
            break items;
        }
        assert!(tokio::time::Instant::now() < deadline, "{page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    stop.cancel();
    let _ = task.await;
    assert!(
        parked.iter().all(|n| n["status"] == "parked" && n["attempts"] == 1),
        "{parked:?}"
    );
    assert!(
        parked
            .iter()
            .all(|n| n["last_error"].as_str().unwrap().contains(&tenant)),
        "{parked:?}"
    );
    ingress.stop().await;

    // With the configuration fixed, a plan, then the requeue: normalized
    // again, published in their subject's order.
    let gw = env.start(Role::All).await;
    let (status, plan) = gw
        .admin_post(
            "/v1/parked/requeue",
            Some(&token),
            json!({"filter": {"tenant": tenant}}),
        )
        .await;
    assert_eq!((status, plan["count"].as_i64()), (200, Some(3)), "{plan}");
    assert_no_more(&mut sub, Duration::from_millis(500)).await;
    let (status, done) = gw
        .admin_post(
            "/v1/parked/requeue",
            Some(&token),
            json!({"filter": {"tenant": tenant}, "dry_run": false}),
        )
        .await;
    assert_eq!((status, done["requeued"].as_i64()), (200, Some(3)), "{done}");
    let events = receive(&mut sub, 3, Duration::from_secs(20)).await;
    let types: Vec<&str> = events.iter().map(|m| m.routing_key.as_str()).collect();
    assert_eq!(
        types,
        ["keeta.order.placed", "keeta.order.accepted", "keeta.order.completed"]
    );
    let (_, parked) = gw.admin_get("/v1/parked", Some(&token)).await;
    assert_eq!(parked["items"], json!([]));
    gw.stop().await;
}

#[tokio::test]
async fn an_encrypted_parked_notification_parks_again_when_requeued() {
    let mut env = TestEnv::new().await;
    let token = env.admin_token("ops", &[Read, Operate], None);
    let gw = env.start(Role::All).await;
    env.post_parking(&gw, 41).await;
    let id = loop {
        let (_, page) = gw.admin_get("/v1/parked", Some(&token)).await;
        if let Some(id) = page["items"][0]["id"].as_i64() {
            break id;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (status, done) = gw
        .admin_post(
            "/v1/parked/requeue",
            Some(&token),
            json!({"filter": {"ids": [id]}, "dry_run": false}),
        )
        .await;
    assert_eq!((status, done["ids"].clone()), (200, json!([id])), "{done}");
    // The relay normalizes it again with the code it runs: still encrypted.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, detail) = gw.admin_get(&format!("/v1/notifications/{id}"), Some(&token)).await;
        let n = &detail["notification"];
        if n["status"] == "parked" && n["last_error"].is_string() {
            assert_eq!(n["attempts"], 1, "attempts start again: {detail}");
            assert!(n["last_error"]
                .as_str()
                .unwrap()
                .contains("encrypted_payload_unsupported"));
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{detail}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    gw.stop().await;
}

#[tokio::test]
async fn a_rejected_request_is_kept_whole_and_readmitted_only_once_it_verifies() {
    let mut env = TestEnv::new().await;
    let tenant = env.tenant.clone();
    let token = env.admin_token("ops", &[Read, ReadPayload, Operate], None);
    let reader = env.admin_token("reader", &[Read], None);
    // The provider signs with a secret the gateway does not have yet.
    let rotated = hookgate_testkit::unique("rotated-");
    let real_secret = env.keeta_secret.clone();
    env.keeta_secret = rotated.clone();
    let (body, message_id) = env.keeta_webhook(1002, 51);
    env.keeta_secret = real_secret;
    let gw = env.start(Role::All).await;
    assert_eq!(gw.post(&tenant, "keeta", body.clone()).await, 401);
    // No delivery of the source has verified yet: its candidate recipes are unproven.
    let (_, page) = gw
        .admin_get(
            &format!("/v1/rejections?tenant={tenant}&reason=no_recipe_matched_yet"),
            Some(&token),
        )
        .await;
    let rejection = page["items"][0].clone();
    let rid = rejection["id"].as_i64().unwrap();
    assert_eq!(
        rejection["body_kept"], rejection["body_size"],
        "kept whole: {rejection}"
    );
    let (_, detail) = gw.admin_get(&format!("/v1/rejections/{rid}"), Some(&token)).await;
    assert_eq!(
        detail["payload"]["body_text"].as_str().map(str::as_bytes),
        Some(body.as_slice())
    );
    let (_, detail) = gw.admin_get(&format!("/v1/rejections/{rid}"), Some(&reader)).await;
    assert!(detail.get("payload").is_none());

    // Still failing under the running configuration: refused, nothing stored.
    let (status, refused) = gw
        .admin_post(&format!("/v1/rejections/{rid}/readmit"), Some(&token), json!({}))
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("bad_signature"),
        "{refused}"
    );
    gw.stop().await;

    // The secret is rotated in the configuration: now it verifies.
    let mut env = env;
    let tenant_cfg = env.settings.tenants.iter().next().unwrap().as_ref().clone();
    let mut tenant_cfg = tenant_cfg;
    let rotated_source = hookgate_testkit::keeta_source(
        "keeta",
        &rotated,
        &env.callback_url,
        hookgate_config::Verification::Enforce,
    );
    tenant_cfg.sources.insert(rotated_source.id.clone(), rotated_source);
    env.settings = Settings::with_tenants(env.settings.service.clone(), vec![tenant_cfg]).unwrap();
    let mut sub = env.subscribe(&["keeta.#"]).await;
    let gw = env.start(Role::All).await;
    let (status, ok) = gw
        .admin_post(&format!("/v1/rejections/{rid}/readmit"), Some(&token), json!({}))
        .await;
    assert_eq!((status, ok["outcome"].as_str()), (200, Some("stored")), "{ok}");
    let stored = gw.stored(&tenant, "keeta", &message_id).await;
    assert_eq!(ok["notification_id"].as_i64(), Some(stored.id));
    assert_eq!(stored.body, body);
    assert!(stored.verified);
    receive(&mut sub, 1, Duration::from_secs(20)).await;
    let (status, again) = gw
        .admin_post(&format!("/v1/rejections/{rid}/readmit"), Some(&token), json!({}))
        .await;
    assert_eq!(status, 409, "{again}");
    gw.stop().await;
}

/// The recipe state of `source` in `GET /v1/tenants`.
async fn recipe_of(gw: &TestGateway, token: &str, source: &str) -> Value {
    let (status, tenants) = gw.admin_get("/v1/tenants", Some(token)).await;
    assert_eq!(status, 200, "{tenants}");
    (tenants[0]["sources"].as_array().into_iter().flatten())
        .find(|s| s["id"] == source)
        .map(|s| s["recipe"].clone())
        .unwrap_or_else(|| panic!("no source {source}: {tenants}"))
}

#[tokio::test]
async fn a_source_onboards_until_a_delivery_proves_its_recipe() {
    let mut env = TestEnv::new().await;
    let tenant = env.tenant.clone();
    let token = env.admin_token("ops", &[Read, ReadPayload, Operate], None);
    // Outside onboarding, no refused body would be kept whole.
    env.settings.service.http.rejection_body_bytes_per_hour = 1;
    env.settings.service.http.rejection_body_prefix_bytes = 64;
    let wrong = |env: &mut TestEnv, seq: u64| {
        let real = std::mem::replace(&mut env.keeta_secret, hookgate_testkit::unique("wrong-"));
        let signed = env.keeta_webhook(1002, seq).0;
        env.keeta_secret = real;
        signed
    };
    let gw = env.start(Role::All).await;
    let before = recipe_of(&gw, &token, "keeta").await;
    assert_eq!(before["state"], "never_matched", "{before}");
    assert!(before["candidates"].as_array().is_some_and(|c| c.len() > 1), "{before}");
    assert_eq!(before["proven"], json!([]));

    // Onboarding: every refusal is kept whole, with its own reason and metric.
    for seq in 1..=3 {
        assert_eq!(gw.post(&tenant, "keeta", wrong(&mut env, seq)).await, 401);
    }
    let (_, page) = gw
        .admin_get(&format!("/v1/rejections?tenant={tenant}"), Some(&token))
        .await;
    let items = page["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 3, "{page}");
    for r in &items {
        assert_eq!(r["reason"], "no_recipe_matched_yet", "{r}");
        assert_eq!(r["body_kept"], r["body_size"], "kept whole: {r}");
        assert!(r["detail"].as_str().unwrap_or_default().contains("callback_url"), "{r}");
    }
    assert_eq!(gw.metrics.refused_onboarding_count(&tenant, "keeta"), 3);

    // A delivery verifies: the recipe is proven, and shown.
    let (body, message_id) = env.keeta_webhook(1002, 4);
    assert_eq!(gw.post(&tenant, "keeta", body).await, 200);
    let stored = gw.stored(&tenant, "keeta", &message_id).await;
    let after = recipe_of(&gw, &token, "keeta").await;
    assert_eq!(after["state"], "matched", "{after}");
    assert_eq!(
        after["proven"][0]["recipe"].as_str(),
        stored.signature_recipe.as_deref()
    );
    assert_eq!(after["proven"][0]["notification_id"].as_i64(), Some(stored.id));

    // Proven: a bad signature is a bad signature, under the usual bounds.
    assert_eq!(gw.post(&tenant, "keeta", wrong(&mut env, 5)).await, 401);
    let (_, page) = gw
        .admin_get(
            &format!("/v1/rejections?tenant={tenant}&reason=bad_signature"),
            Some(&token),
        )
        .await;
    let r = &page["items"][0];
    assert_eq!(r["body_kept"], 64, "only the prefix: {r}");
    assert_eq!(gw.metrics.refused_onboarding_count(&tenant, "keeta"), 3);
    // Another source of the tenant is still onboarding.
    assert_eq!(recipe_of(&gw, &token, "pagsmile-payin").await["state"], "never_matched");
    gw.stop().await;

    // Another gateway process on the same database knows the proof.
    let gw = env.start(Role::Ingress).await;
    assert_eq!(gw.post(&tenant, "keeta", wrong(&mut env, 6)).await, 401);
    assert_eq!(gw.metrics.refused_onboarding_count(&tenant, "keeta"), 0);
    gw.stop().await;
}

#[tokio::test]
async fn tenants_are_listed_without_secrets_and_the_document_describes_the_api() {
    let mut env = TestEnv::new().await;
    let token = env.admin_token("ops", &[Read], None);
    let all = env.admin_token("all", &[Read, ReadPayload, Operate], None);
    let gw = env.start(Role::Ingress).await;
    let (status, tenants) = gw.admin_get("/v1/tenants", Some(&token)).await;
    assert_eq!(status, 200);
    let t = &tenants[0];
    assert_eq!(t["id"], env.tenant.as_str());
    let keeta = t["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "keeta")
        .unwrap();
    assert_eq!(keeta["kind"], "keeta");
    assert_eq!(keeta["verification"], "enforce");
    assert_eq!(keeta["url"], env.callback_url.as_str());
    assert!(!tenants.to_string().contains(&env.keeta_secret), "no secret is shown");

    let r = http()
        .get(format!("{}/openapi.json", gw.admin_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "the document needs no token");
    let doc: Value = r.json().await.unwrap();
    // Every documented operation is served: its handler answers (a JSON body
    // of its own, even for 404), never the router's bare 404 or a 405.
    let mut operations = 0;
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let url = path.replace("{id}", "1").replace("{subject}", "order/1");
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            assert!(
                ids.insert(op["operationId"].as_str().unwrap().to_owned()),
                "{path}: operation id reused"
            );
            let query = if path.contains("timeline") {
                format!("?tenant={}", env.tenant)
            } else {
                String::new()
            };
            let req = match method.as_str() {
                "get" => http().get(format!("{}{url}{query}", gw.admin_url)),
                "post" => http()
                    .post(format!("{}{url}", gw.admin_url))
                    .json(&json!({"filter": {"tenant": env.tenant}})),
                other => panic!("{path}: unexpected method {other}"),
            };
            let r = req.bearer_auth(&all).send().await.unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            assert!(
                status != 405 && !body.is_null(),
                "{method} {path}: {status} from the router, not the handler"
            );
        }
    }
    assert!(operations >= 21, "{operations} operations documented");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    gw.stop().await;
}

/// Runs the `hookgate` binary (built by `cargo test --workspace` for the CLI's
/// own tests) with `args` and the admin URL and token in its environment.
pub(crate) async fn hookgate(admin_url: &str, token: Option<&str>, args: &[&str]) -> (bool, String, String) {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().and_then(|d| d.parent()).unwrap().join("hookgate");
    assert!(bin.exists(), "{} missing: cargo build -p hookgate-cli", bin.display());
    let mut cmd = std::process::Command::new(bin);
    cmd.args(args)
        .env("HOOKGATE_ADMIN_URL", admin_url)
        .env_remove("HOOKGATE_ADMIN_TOKEN");
    if let Some(t) = token {
        cmd.env("HOOKGATE_ADMIN_TOKEN", t);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_cli_operates_through_the_admin_api() {
    let mut env = TestEnv::new().await;
    let tenant = env.tenant.clone();
    let token = env.admin_token("cli", &[Read, Operate], None);
    let mut sub = env.subscribe(&["keeta.#"]).await;
    let gw = env.start(Role::All).await;
    post_order(&env, &gw, 61).await;
    receive(&mut sub, 3, Duration::from_secs(20)).await;
    published(&gw, &token, &tenant, 3).await;
    let url = gw.admin_url.clone();

    let (ok, out, err) = hookgate(
        &url,
        Some(&token),
        &["notifications", "list", "--tenant", &tenant, "--output", "json"],
    )
    .await;
    assert!(ok, "{err}");
    let page: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(3), "{out}");
    let subject = page["items"][0]["subject"].as_str().unwrap().to_owned();

    let (ok, out, err) = hookgate(&url, Some(&token), &["timeline", "--tenant", &tenant, &subject]).await;
    assert!(ok, "{err}");
    assert_eq!(out.matches("→ keeta.order.").count(), 3, "{out}");

    // The plan first; nothing is published until --run.
    let (ok, out, err) = hookgate(&url, Some(&token), &["replay", "--tenant", &tenant]).await;
    assert!(ok, "{err}");
    assert!(out.starts_with("plan: 3 notification(s)"), "{out}");
    assert_no_more(&mut sub, Duration::from_millis(300)).await;
    let (ok, out, err) = hookgate(
        &url,
        Some(&token),
        &["replay", "--tenant", &tenant, "--run", "--output", "json"],
    )
    .await;
    assert!(ok, "{err}");
    let job: Value = serde_json::from_str(&out).unwrap();
    receive(&mut sub, 3, Duration::from_secs(20)).await;
    let id = job["id"].as_i64().unwrap();
    gw.replay_finished(id, &token, Duration::from_secs(10)).await;
    let (ok, out, _) = hookgate(&url, Some(&token), &["jobs"]).await;
    assert!(ok && out.contains("done") && out.contains("3/3 replayed"), "{out}");

    let (ok, out, _) = hookgate(&url, Some(&token), &["parked", "requeue", "--tenant", &tenant]).await;
    assert!(ok && out.starts_with("plan: 0 parked"), "{out}");

    // Without a token: a clear error, not a call.
    let (ok, _, err) = hookgate(&url, None, &["rejections", "list"]).await;
    assert!(!ok && err.contains("HOOKGATE_ADMIN_TOKEN"), "{err}");
    gw.stop().await;
}

/// The row of `tenant` in a retention plan or run.
fn tenant_row(report: &Value, tenant: &str) -> Value {
    let rows = report.as_array().unwrap_or_else(|| panic!("not a list: {report}"));
    let row = rows.iter().find(|r| r["tenant"] == tenant);
    row.unwrap_or_else(|| panic!("no row of {tenant}: {report}")).clone()
}

/// Parks one Pagsmile notification (a payload the normalizer cannot read)
/// and returns its id once the relay parked it.
async fn park_one(env: &TestEnv, gw: &TestGateway, token: &str, seq: u64) -> i64 {
    env.post_parking(gw, seq).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, page) = gw.admin_get("/v1/parked", Some(token)).await;
        if let Some(id) = page["items"][0]["id"].as_i64() {
            return id;
        }
        assert!(tokio::time::Instant::now() < deadline, "nothing parked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Notifications live in id-range partitions that open one after another;
/// retention drops a partition whose rows are all past the longest
/// retention, with its event records and delivery keys, keeps the open one,
/// and keeps a closed one that still holds a parked notification.
#[tokio::test]
async fn retention_drops_an_old_partition_whole_and_keeps_the_new_one() {
    let mut env = TestEnv::with(|t| t.retention_days = Some(10)).await;
    // The longest retention (the service default here) decides partitions.
    env.settings.service.retention.days = 20;
    let tenant = env.tenant.clone();
    let token = env.admin_token("ops", &[Read, Operate], None);
    let gw = env.start(Role::All).await;
    let old_keys = post_order(&env, &gw, 81).await;
    let old = published(&gw, &token, &tenant, 3).await;
    let old_ids: Vec<i64> = old.iter().map(|n| n["id"].as_i64().unwrap()).collect();
    assert!(old_ids.iter().all(|&id| id < PARTITION_IDS), "{old_ids:?}");

    // Not due yet: nothing opens.
    assert_eq!(gw.store.roll_partitions(Duration::from_secs(3600)).await.unwrap(), None);
    let opened = gw.store.roll_partitions(Duration::ZERO).await.unwrap();
    assert_eq!(opened.as_deref(), Some("notifications_p1"));
    post_order(&env, &gw, 82).await;
    let all = published(&gw, &token, &tenant, 6).await;
    let new_ids: Vec<i64> = all
        .iter()
        .map(|n| n["id"].as_i64().unwrap())
        .filter(|id| !old_ids.contains(id))
        .collect();
    assert_eq!(new_ids.len(), 3);
    assert!(
        new_ids
            .iter()
            .all(|&id| (PARTITION_IDS..2 * PARTITION_IDS).contains(&id)),
        "ids are drawn in the new partition: {new_ids:?}"
    );
    // A third partition opens; the second keeps a parked notification.
    let parked = park_one(&env, &gw, &token, 83).await;
    assert!((PARTITION_IDS..2 * PARTITION_IDS).contains(&parked), "{parked}");
    assert_eq!(
        gw.store.roll_partitions(Duration::ZERO).await.unwrap().as_deref(),
        Some("notifications_p2")
    );

    // The first two partitions are 30 days old: past every retention.
    gw.store.backdate_partition(0, 30).await.unwrap();
    gw.store.backdate_partition(PARTITION_IDS, 30).await.unwrap();
    let (status, parts) = gw.admin_get("/v1/partitions", Some(&token)).await;
    assert_eq!(status, 200, "{parts}");
    let names: Vec<&str> = parts
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["notifications_p0", "notifications_p1", "notifications_p2"],
        "{parts}"
    );
    assert_eq!(parts[1]["held"], 1, "the parked one holds its partition: {parts}");
    assert_eq!(
        (parts[0]["open"].as_bool(), parts[2]["open"].as_bool()),
        (Some(false), Some(true))
    );

    // The plan counts the first partition's rows (the second's published
    // rows go row by row: the tenant's 10 days).
    let (_, plan) = gw.admin_get("/v1/retention", Some(&token)).await;
    let mine = tenant_row(&plan, &tenant);
    assert_eq!(
        (mine["notifications"].as_i64(), mine["in_dropped_partitions"].as_i64()),
        (Some(6), Some(3)),
        "{plan}"
    );
    let (status, done) = gw.admin_post("/v1/retention/run", Some(&token), json!({})).await;
    assert_eq!(status, 200, "{done}");
    let mine = tenant_row(&done, &tenant);
    assert_eq!(
        (mine["notifications"].as_i64(), mine["in_dropped_partitions"].as_i64()),
        (Some(6), Some(3)),
        "{done}"
    );

    let names: Vec<String> = gw
        .store
        .partitions()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["notifications_p1", "notifications_p2"]);
    for id in old_ids.iter().chain(&new_ids) {
        assert_eq!(
            gw.admin_get(&format!("/v1/notifications/{id}"), Some(&token)).await.0,
            404,
            "{id}"
        );
        assert_eq!(gw.store.count_published_events(*id).await.unwrap(), 0, "events of {id}");
    }
    assert_eq!(
        gw.admin_get(&format!("/v1/notifications/{parked}"), Some(&token))
            .await
            .0,
        200
    );
    // The delivery keys went with them: the same key is a new delivery now.
    let source = hookgate_core::SourceId::from_stored("keeta".to_owned());
    let tenant_id = hookgate_core::TenantId::from_stored(tenant.clone());
    for key in &old_keys {
        assert!(gw
            .store
            .notification_by_key(&tenant_id, &source, key)
            .await
            .unwrap()
            .is_none());
    }
    // New webhooks go on into the open partition.
    post_order(&env, &gw, 84).await;
    let latest = published(&gw, &token, &tenant, 3).await;
    assert!(
        latest.iter().all(|n| n["id"].as_i64().unwrap() >= 2 * PARTITION_IDS),
        "{latest:?}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn retention_removes_old_published_rows_and_keeps_the_rest() {
    let mut env = TestEnv::with(|t| t.retention_days = Some(10)).await;
    let tenant = env.tenant.clone();
    let token = env.admin_token("ops", &[Read, Operate], None);
    let gw = env.start(Role::All).await;
    post_order(&env, &gw, 71).await;
    let all = published(&gw, &token, &tenant, 3).await;
    let ids: Vec<i64> = all.iter().map(|n| n["id"].as_i64().unwrap()).collect();
    // One rejection: signed with a secret the gateway does not have.
    let secret = std::mem::replace(&mut env.keeta_secret, "not-the-secret".into());
    let (bad, _) = env.keeta_webhook(1002, 72);
    env.keeta_secret = secret;
    assert_eq!(gw.post(&tenant, "keeta", bad).await, 401);
    // The two oldest 11 days old (beyond the tenant's 10), the newest 9 days
    // (ids are newest first; time follows commit order).
    gw.store.backdate_notification(ids[2], 11).await.unwrap();
    gw.store.backdate_notification(ids[1], 11).await.unwrap();
    gw.store.backdate_notification(ids[0], 9).await.unwrap();
    gw.store.backdate_rejections(&tenant, 11).await.unwrap();
    // A parked one as old: never removed by retention.
    env.post_parking(&gw, 73).await;
    let parked = loop {
        let (_, page) = gw.admin_get("/v1/parked", Some(&token)).await;
        if let Some(id) = page["items"][0]["id"].as_i64() {
            break id;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    gw.store.backdate_notification(parked, 400).await.unwrap();

    let (status, plan) = gw.admin_get("/v1/retention", Some(&token)).await;
    assert_eq!(status, 200, "{plan}");
    let mine = tenant_row(&plan, &tenant);
    assert_eq!(
        (
            mine["days"].as_i64(),
            mine["notifications"].as_i64(),
            mine["rejections"].as_i64()
        ),
        (Some(10), Some(2), Some(1)),
        "{plan}"
    );
    // The plan removed nothing.
    assert_eq!(
        gw.admin_get(&format!("/v1/notifications/{}", ids[0]), Some(&token))
            .await
            .0,
        200
    );

    let (status, done) = gw.admin_post("/v1/retention/run", Some(&token), json!({})).await;
    assert_eq!(status, 200, "{done}");
    let mine = tenant_row(&done, &tenant);
    assert_eq!(
        (mine["notifications"].as_i64(), mine["rejections"].as_i64()),
        (Some(2), Some(1)),
        "{done}"
    );
    assert_eq!(
        gw.admin_get(&format!("/v1/notifications/{}", ids[2]), Some(&token))
            .await
            .0,
        404
    );
    assert_eq!(
        gw.admin_get(&format!("/v1/notifications/{}", ids[1]), Some(&token))
            .await
            .0,
        404
    );
    assert_eq!(
        gw.admin_get(&format!("/v1/notifications/{}", ids[0]), Some(&token))
            .await
            .0,
        200,
        "9 days: kept"
    );
    assert_eq!(
        gw.admin_get(&format!("/v1/notifications/{parked}"), Some(&token))
            .await
            .0,
        200,
        "parked: kept"
    );
    let (_, rejections) = gw
        .admin_get(&format!("/v1/rejections?tenant={tenant}"), Some(&token))
        .await;
    assert_eq!(rejections["items"], json!([]));
    // Nothing left to remove.
    let (_, again) = gw.admin_post("/v1/retention/run", Some(&token), json!({})).await;
    let mine = tenant_row(&again, &tenant);
    assert_eq!(mine["notifications"], 0);
    gw.stop().await;
}

#[tokio::test]
async fn erasure_keeps_tombstones_and_is_never_replayed() {
    let mut env = TestEnv::new().await;
    let tenant = env.tenant.clone();
    let token = env.admin_token("ops", &[Read, ReadPayload, Operate], None);
    let mut sub = env.subscribe(&["keeta.#"]).await;
    let gw = env.start(Role::All).await;
    post_order(&env, &gw, 81).await;
    post_order(&env, &gw, 82).await;
    receive(&mut sub, 6, Duration::from_secs(20)).await;
    let all = published(&gw, &token, &tenant, 6).await;
    let subject = all[0]["subject"].as_str().unwrap().to_owned();

    let (status, _) = gw
        .admin_post("/v1/erasures", Some(&token), json!({"tenant": tenant}))
        .await;
    assert_eq!(status, 400, "a subject or a time range is needed");
    let (status, plan) = gw
        .admin_post(
            "/v1/erasures",
            Some(&token),
            json!({"tenant": tenant, "subject": subject}),
        )
        .await;
    assert_eq!((status, plan["notifications"].as_i64()), (200, Some(3)), "{plan}");
    let (status, done) = gw
        .admin_post(
            "/v1/erasures",
            Some(&token),
            json!({"tenant": tenant, "subject": subject, "dry_run": false}),
        )
        .await;
    assert_eq!((status, done["notifications"].as_i64()), (200, Some(3)), "{done}");

    let (_, timeline) = gw
        .admin_get(
            &format!("/v1/subjects/{subject}/timeline?tenant={tenant}"),
            Some(&token),
        )
        .await;
    let entries = timeline["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "tombstones stay: {timeline}");
    for e in entries {
        assert!(e["notification"]["erased_at"].is_string(), "{e}");
        assert_eq!(e["events"].as_array().map(Vec::len), Some(1), "event records stay");
        let id = e["notification"]["id"].as_i64().unwrap();
        let (_, detail) = gw.admin_get(&format!("/v1/notifications/{id}"), Some(&token)).await;
        assert_eq!(detail["payload"]["body_base64"], "", "{detail}");
        assert_eq!(detail["payload"]["headers"], json!([]), "{detail}");
    }
    // The other order is untouched; a replay of the tenant skips the erased.
    let (_, job) = gw
        .admin_post(
            "/v1/replays",
            Some(&token),
            json!({"filter": {"tenant": tenant}, "dry_run": false}),
        )
        .await;
    let done = gw
        .replay_finished(job["id"].as_i64().unwrap(), &token, Duration::from_secs(10))
        .await;
    assert_eq!(done["replayed"], 3, "{done}");
    receive(&mut sub, 3, Duration::from_secs(20)).await;
    assert_no_more(&mut sub, Duration::from_millis(500)).await;
    gw.stop().await;
}

/// The typed client speaks the API's own types both ways: a filtered list,
/// one notification in full, a plan, and an error answer as a typed error.
#[tokio::test]
async fn the_typed_client_reads_and_plans_with_the_api_types() {
    use hookgate_client::types::{NotificationFilter, OutboxStatus, ReplayRequest};
    use hookgate_client::{Client, ClientError, Paging, ReplayAnswer};
    let mut env = TestEnv::new().await;
    let tenant = env.tenant.clone();
    let token = env.admin_token("typed", &[Read, ReadPayload, Operate], None);
    let reader = env.admin_token("reader", &[Read], None);
    let gw = env.start(Role::All).await;
    post_order(&env, &gw, 71).await;
    published(&gw, &token, &tenant, 3).await;

    let client = Client::new(&gw.admin_url, &token);
    let filter = NotificationFilter {
        tenant: Some(env.tenant_id()),
        status: Some(OutboxStatus::Published),
        ..NotificationFilter::default()
    };
    let page = client.notifications(&filter, &Paging::default()).await.unwrap();
    assert_eq!(page.items.len(), 3);
    assert!(page.items.iter().all(|n| n.status == "published"));
    let detail = client.notification(page.items[0].id).await.unwrap();
    assert!(detail.payload.is_some(), "read_payload shows the raw request");
    let plan = client
        .replay(&ReplayRequest {
            filter: filter.clone(),
            queue: None,
            rate_per_sec: None,
            dry_run: true,
        })
        .await
        .unwrap();
    assert!(matches!(plan, ReplayAnswer::Plan(ref p) if p.count == 3), "{plan:?}");

    let refused = Client::new(&gw.admin_url, &reader)
        .replay(&ReplayRequest {
            filter,
            queue: None,
            rate_per_sec: None,
            dry_run: true,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ClientError::Api { status: 403, ref body } if body.error == "forbidden"),
        "{refused:?}"
    );
    gw.stop().await;
}
