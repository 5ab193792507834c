//! Hostile input: each reproducer of the isolation review, replayed against a
//! gateway on the real PostgreSQL, Redis and RabbitMQ. Every test checks the
//! precise answer, the recorded rejection and metric where there is one, and
//! that the neighbours of the bad request (other webhooks, other tenants'
//! rows in the same batch, the relay loops) carry on unaffected.

use bytes::Bytes;
use chrono::Utc;
use hookgate_app::Role;
use hookgate_config::HeaderToken;
use hookgate_core::{DeliveryKey, RawNotification, SourceId, TenantId};
use hookgate_dispatcher::amqp::Outgoing;
use hookgate_dispatcher::AmqpError;
use hookgate_providers::{Admitted, Inspected, Request};
use hookgate_store::{GroupWriter, OutboxRow, Store};
use hookgate_testkit::{http, keeta, post_sample, receive, unique, TestEnv, TestGateway, KEETA_APP_ID};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Waits until the outbox row of `id` has `status`.
async fn wait_status(store: &Store, id: i64, status: &str, within: Duration) -> OutboxRow {
    let deadline = Instant::now() + within;
    loop {
        let row = store.outbox_row(id).await.unwrap().expect("outbox row");
        if row.status.as_str() == status {
            return row;
        }
        assert!(
            Instant::now() < deadline,
            "row {id} still {} after {within:?} (last error {:?}, attempts {})",
            row.status,
            row.last_error,
            row.attempts
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `webhook-id` a Standard Webhooks sample was signed with.
pub(crate) fn webhook_id(sample: &hookgate_providers::Sample) -> String {
    sample
        .headers
        .iter()
        .find(|(n, _)| n == "webhook-id")
        .map(|(_, v)| v.clone())
        .expect("webhook-id")
}

async fn ready(gw: &TestGateway) -> u16 {
    http()
        .get(format!("{}/readyz", gw.admin_url))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

// ---------- 1. one webhook stops all publishing ----------

#[tokio::test]
async fn oversized_event_type_neither_panics_nor_stops_the_relay() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::All).await;
    let mut sub = env.subscribe(&["#"]).await;

    let long = "x".repeat(300);
    let hostile = env.sign(
        "webhooks",
        json!({"type": long, "data": {"id": "a"}}).to_string().into_bytes(),
    );
    let (status, text, _) = post_sample(&gw.hook_url(&env.tenant, "webhooks"), &hostile).await;
    assert!(status < 300, "{status} {text}");
    let hostile_id = gw.stored(&env.tenant, "webhooks", &webhook_id(&hostile)).await.id;

    let (neighbour, _) = env.keeta_webhook(1002, 1);
    assert_eq!(gw.post(&env.tenant, "keeta", neighbour).await, 200);

    let got = receive(&mut sub, 2, Duration::from_secs(20)).await;
    let keys: Vec<&str> = got.iter().map(|m| m.routing_key.as_str()).collect();
    assert!(keys.contains(&"keeta.order.accepted"), "{keys:?}");
    let long_key = keys
        .iter()
        .find(|k| k.starts_with("webhooks."))
        .expect("the long type is published");
    assert!(long_key.len() <= 255, "routing key of {} bytes", long_key.len());
    assert!(
        long_key.starts_with(&format!("webhooks.{}", &long[..200])),
        "{long_key}"
    );
    wait_status(&gw.store, hostile_id, "published", Duration::from_secs(5)).await;

    // Still publishing afterwards, every loop alive, ready.
    let (after, _) = env.keeta_webhook(1002, 2);
    assert_eq!(gw.post(&env.tenant, "keeta", after).await, 200);
    receive(&mut sub, 1, Duration::from_secs(20)).await;
    assert_eq!(gw.metrics.relay_error_count("panic"), 0);
    assert_eq!(gw.metrics.relay_loops_running(), 2);
    assert_eq!(ready(&gw).await, 200);
    gw.stop().await;
}

#[tokio::test]
async fn publisher_fails_an_oversized_short_string_alone() {
    let env = TestEnv::new().await;
    let mut sub = env.subscribe(&["#"]).await;
    let publisher = env.publisher();
    let message = |routing_key: String, id: &str| Outgoing {
        message_id: id.to_owned(),
        ..env.message(&routing_key)
    };
    let results = publisher
        .publish_all(&[
            message("a.ok".into(), "1"),
            message("r".repeat(256), "2"),
            message("b.ok".into(), "3"),
        ])
        .await;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(
        matches!(results[1], Err(AmqpError::TooLong { len: 256, .. })),
        "{:?}",
        results[1]
    );
    assert!(results[2].is_ok(), "{:?}", results[2]);
    let got = receive(&mut sub, 2, Duration::from_secs(10)).await;
    assert_eq!(got[0].routing_key, "a.ok");
    assert_eq!(got[1].routing_key, "b.ok");
}

// ---------- 2. unpublishable events retried instead of parked ----------

#[tokio::test]
async fn out_of_range_timestamp_does_not_hold_its_subject() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::All).await;
    let mut sub = env.subscribe(&["pagsmile.payout.*"]).await;
    let url = gw.hook_url(&env.tenant, "pagsmile-payout");

    let mut paid = env.sample_json("pagsmile-payout", "paid", 1);
    paid["timestamp"] = json!(99_999_999_999_999i64);
    let mut refunded = paid.clone();
    refunded["status"] = json!("REFUNDED");
    refunded["timestamp"] = json!(Utc::now().timestamp());
    for body in [paid, refunded] {
        let (status, text, _) = post_sample(&url, &env.sign("pagsmile-payout", body.to_string().into_bytes())).await;
        assert!(status < 300, "{status} {text}");
    }
    let got = receive(&mut sub, 2, Duration::from_secs(15)).await;
    let keys: Vec<&str> = got.iter().map(|m| m.routing_key.as_str()).collect();
    assert_eq!(
        keys,
        ["pagsmile.payout.paid", "pagsmile.payout.refunded"],
        "in subject order, at once"
    );
    let event: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(
        event["occurredAt"], event["receivedAt"],
        "an unencodable time is replaced by the receipt time: {event}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn nul_in_an_idempotency_key_completes_its_batch() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let mut sub = env.subscribe(&["#"]).await;

    let mut auth = env.sample_json("pagsmile-issuing", "authorization", 1);
    auth["biz_data"]["data_type"] = json!("cardAuthorization\u{0}x");
    let hostile = env.sign("pagsmile-issuing", auth.to_string().into_bytes());
    let (status, text, _) = post_sample(&gw.hook_url(&env.tenant, "pagsmile-issuing"), &hostile).await;
    assert!(status < 300, "{status} {text}");
    let (neighbour, message_id) = env.keeta_webhook(1002, 1);
    assert_eq!(gw.post(&env.tenant, "keeta", neighbour).await, 200);
    let neighbour_id = gw.stored(&env.tenant, "keeta", &message_id).await.id;

    // One relay batch holds both rows.
    let (dispatcher, _) = env.dispatcher(env.settings.service.dispatcher.clone()).await;
    let outcome = dispatcher.try_once().await.unwrap();
    assert_eq!((outcome.claimed, outcome.published), (2, 2), "{outcome:?}");
    receive(&mut sub, 2, Duration::from_secs(10)).await;
    wait_status(&gw.store, neighbour_id, "published", Duration::from_secs(1)).await;
    assert_eq!(gw.store.outbox_stats().await.unwrap().pending, 0);
    let again = dispatcher.try_once().await.unwrap();
    assert_eq!(again.claimed, 0, "nothing is published twice");
    gw.stop().await;
}

#[tokio::test]
async fn a_row_claimed_too_often_without_an_outcome_parks() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let (body, message_id) = env.keeta_webhook(1002, 1);
    assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);
    let id = gw.stored(&env.tenant, "keeta", &message_id).await.id;
    // Two relays that died holding it (their leases ran out).
    let store = env.store().await;
    for _ in 0..2 {
        let claimed = store.claim(uuid::Uuid::new_v4(), Duration::ZERO, 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut settings = env.settings.service.dispatcher.clone();
    settings.max_attempts = 2;
    let (dispatcher, _) = env.dispatcher(settings).await;
    let outcome = dispatcher.try_once().await.unwrap();
    assert_eq!(outcome.parked, 1, "{outcome:?}");
    let row = store.outbox_row(id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "parked");
    assert!(row.last_error.unwrap_or_default().contains("without an outcome"));
    gw.stop().await;
}

// ---------- 4. a NUL in a key fails the whole group commit ----------

#[tokio::test]
async fn nul_in_delivery_or_ordering_keys_harms_no_neighbour() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let keeta_url = gw.hook_url(&env.tenant, "keeta");

    // Keeta: NUL in messageId (the delivery key).
    let now_ms = Utc::now().timestamp_millis();
    let message = keeta::message(1002, 1, 145_541, now_ms);
    let envelope = keeta::envelope(KEETA_APP_ID, 1002, "12\u{0}34", 145_541, &message, now_ms / 1000);
    let keeta_nul = keeta::signed_body(envelope, &env.callback_url, &env.keeta_secret);
    // Standard Webhooks: NUL in data.id (the ordering key's subject).
    let sw_nul = env.sign(
        "webhooks",
        json!({"type": "invoice.paid", "data": {"id": "in\u{0}1"}})
            .to_string()
            .into_bytes(),
    );
    // BH: NUL in the order id (delivery and ordering key).
    let mut order = env.sample_json("bh", "order", 1);
    order["orderId"] = json!("4731\u{0}305");
    let bh_nul = env.sign("bh", order.to_string().into_bytes());

    let mut requests = Vec::new();
    for i in 0..60u64 {
        let (body, _) = env.keeta_webhook(1002, 100 + i);
        let url = keeta_url.clone();
        requests.push(tokio::spawn(async move {
            http().post(url).body(body).send().await.unwrap().status().as_u16()
        }));
        if i == 20 {
            let url = keeta_url.clone();
            let body = keeta_nul.clone();
            requests.push(tokio::spawn(async move {
                http().post(url).body(body).send().await.unwrap().status().as_u16()
            }));
            for (source, sample) in [("webhooks", sw_nul.clone()), ("bh", bh_nul.clone())] {
                let url = gw.hook_url(&env.tenant, source);
                requests.push(tokio::spawn(async move { post_sample(&url, &sample).await.0 }));
            }
        }
    }
    for r in requests {
        let status = r.await.unwrap();
        if !(200..300).contains(&status) {
            let rejections = gw.store.rejections(Some(&env.tenant_id())).await.unwrap();
            panic!("every request is stored: {status}; {rejections:?}");
        }
    }
    assert_eq!(gw.store.count_notifications(&env.tenant_id()).await.unwrap(), 63);
    gw.stop().await;
}

#[tokio::test]
async fn a_refused_group_commit_is_retried_without_the_failing_request() {
    let env = TestEnv::new().await;
    let store = env.store().await;
    let writer = GroupWriter::start(store.clone(), 1, 64);
    let tenant = TenantId::parse(&env.tenant).unwrap();
    let source = SourceId::parse("keeta").unwrap();
    // A real signed webhook, authenticated by its provider as ingress would.
    let settings = env
        .settings
        .tenants
        .get(&env.tenant)
        .unwrap()
        .source("keeta")
        .unwrap()
        .settings
        .clone();
    let (body, _) = env.keeta_webhook(1102, 1);
    let headers: Vec<(String, String)> = Vec::new();
    let request = Request {
        tenant: &env.tenant,
        url: "http://127.0.0.1/unused",
        headers: &headers,
        now_secs: Utc::now().timestamp(),
        registered: &[],
    };
    let Ok(Inspected::Authenticated(authenticated)) = settings.inspect(&request, &body) else {
        panic!("the sample webhook must authenticate")
    };
    let notification = |key: DeliveryKey| {
        Admitted::Authenticated(authenticated.clone().map(|_| RawNotification {
            tenant: tenant.clone(),
            source: source.clone(),
            kind: hookgate_providers::keeta::KIND,
            delivery_key: key,
            body: Bytes::from_static(b"{}"),
            headers: Vec::new(),
            remote_addr: None,
            received_at: Utc::now(),
            traceparent: None,
            ordering_key: None,
            utc_offset_minutes: None,
        }))
    };
    let mut inserts = Vec::new();
    for i in 0..40 {
        // A key the database cannot hold (text with NUL), built past the checks.
        let key = if i == 17 {
            DeliveryKey::from_digest_hex("bad\u{0}key".to_owned())
        } else {
            DeliveryKey::new(format!("k{i}")).unwrap()
        };
        let (w, n) = (writer.clone(), notification(key));
        inserts.push(tokio::spawn(async move { w.insert(n).await }));
    }
    let mut failed = 0;
    for (i, r) in inserts.into_iter().enumerate() {
        match r.await.unwrap() {
            Ok(_) => assert_ne!(i, 17),
            Err(e) => {
                assert_eq!(i, 17, "{e}");
                assert!(!e.is_unavailable(), "the database is up: {e}");
                failed += 1;
            }
        }
    }
    assert_eq!(failed, 1);
    assert_eq!(store.count_notifications(&env.tenant_id()).await.unwrap(), 39);
}

// ---------- 3 and 10. bounded cost before authentication ----------

/// Sends a request head announcing `length` bytes and `sent` of them, then stalls.
async fn stalled(port: u16, path: &str, length: usize, sent: usize) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let mut left = sent;
    while left > 0 {
        let n = left.min(chunk.len());
        match tokio::time::timeout(Duration::from_secs(2), s.write_all(&chunk[..n])).await {
            Ok(Ok(())) => left -= n,
            _ => break, // the server stopped reading (it answered already)
        }
    }
    s
}

/// The status of the answer on a stalled connection (0: closed without one).
async fn answer(mut s: TcpStream, within: Duration) -> u16 {
    let mut buf = vec![0u8; 512];
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                got.extend_from_slice(&buf[..n]);
                if got.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            Err(_) => panic!("no answer within {within:?}"),
        }
    }
    let text = String::from_utf8_lossy(&got);
    text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

fn rss_bytes() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<i64>().unwrap() * 1024
}

#[tokio::test]
async fn stalled_bodies_are_bounded_in_memory_and_time() {
    let mut env = TestEnv::new().await;
    env.settings.service.http.body_read_timeout_ms = 1_500;
    env.settings.service.http.max_body_bytes_in_memory = 8 * 1024 * 1024;
    env.settings.service.http.small_body_reserve_bytes = 1024 * 1024;
    let gw = env.start(Role::Ingress).await;
    let port: u16 = gw.base_url.rsplit(':').next().unwrap().parse().unwrap();
    let path = format!("/hooks/{}/keeta", env.tenant);

    let before = rss_bytes();
    let started = Instant::now();
    let mut conns = Vec::new();
    for _ in 0..200 {
        conns.push(stalled(port, &path, 1024 * 1024 - 1, 1024 * 1024 - 2).await);
    }
    let grown = rss_bytes() - before;
    let mut statuses = BTreeMap::new();
    let answers = futures_join(conns.into_iter().map(|c| answer(c, Duration::from_secs(10))).collect()).await;
    for status in answers {
        *statuses.entry(status).or_insert(0u32) += 1;
    }
    let elapsed = started.elapsed();
    println!(
        "HOSTILE stalled: 200 connections x (1 MiB - 2 of 1 MiB - 1): answers {statuses:?} within {elapsed:?}; \
         RSS grew {} MiB (budget 8 MiB)",
        grown / (1024 * 1024)
    );
    // Without the budget the bodies alone are 200 MiB; the bound leaves room
    // for the other tests of this binary running meanwhile.
    assert!(grown < 128 * 1024 * 1024, "RSS grew {grown} bytes");
    assert_eq!(statuses.get(&0), None, "every connection got an answer: {statuses:?}");
    assert!(statuses.keys().all(|s| *s == 503 || *s == 408), "{statuses:?}");
    assert!(statuses.get(&408).is_some_and(|n| *n >= 1), "{statuses:?}");
    assert!(gw.metrics.rejected_count(&env.tenant, "keeta", "overloaded") > 0);
    let rejections = gw.store.rejections(Some(&env.tenant_id())).await.unwrap();
    assert!(rejections
        .iter()
        .any(|r| r.reason == "body_timeout" && r.http_status == 408));

    // Neighbours: a webhook after the storm is accepted.
    let (body, _) = env.keeta_webhook(1002, 1);
    assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);
    gw.stop().await;
}

async fn futures_join<T: Send + 'static>(
    futures: Vec<impl std::future::Future<Output = T> + Send + 'static>,
) -> Vec<T> {
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn beyond_the_in_flight_budget_answers_503_at_once() {
    let mut env = TestEnv::new().await;
    env.settings.service.http.max_in_flight = 4;
    env.settings.service.http.body_read_timeout_ms = 3_000;
    let gw = env.start(Role::Ingress).await;
    let port: u16 = gw.base_url.rsplit(':').next().unwrap().parse().unwrap();
    let path = format!("/hooks/{}/keeta", env.tenant);
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(stalled(port, &path, 100, 10).await);
    }
    // Until the four hold their permits (counted as received once they do).
    let deadline = Instant::now() + Duration::from_secs(10);
    while gw.metrics.received_count(&env.tenant, "keeta") < 4 {
        assert!(Instant::now() < deadline, "the stalled requests never arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (body, _) = env.keeta_webhook(1002, 1);
    let started = Instant::now();
    let r = http()
        .post(gw.hook_url(&env.tenant, "keeta"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    assert!(took < Duration::from_secs(2), "shed at once, took {took:?}");
    assert_eq!(gw.metrics.rejected_count(&env.tenant, "keeta", "overloaded"), 1);
    for s in held {
        assert_eq!(answer(s, Duration::from_secs(10)).await, 408);
    }
    assert_eq!(
        gw.post(&env.tenant, "keeta", body).await,
        200,
        "the budget is given back"
    );
    gw.stop().await;
}

/// Runs SQL on the test's database with psql.
fn psql(env: &TestEnv, sql: &str) -> String {
    let db = &env.settings.service.database.url;
    let out = std::process::Command::new("psql")
        .args([db.as_str(), "-v", "ON_ERROR_STOP=1", "-tAqc", sql])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Overload is decided by the commits in flight: when the database falls
/// behind (here: a trigger makes two commits take 3 s), a webhook beyond the
/// cap gets 503 + Retry-After at once, before it would wait for a commit;
/// the held ones still commit, and the cap is given back.
#[tokio::test]
async fn beyond_the_commits_in_flight_answers_503_at_once() {
    let mut env = TestEnv::new().await;
    env.settings.service.http.max_in_flight_commits = 2;
    psql(
        &env,
        "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.delivery_key LIKE 'slow-%' THEN PERFORM pg_sleep(3); END IF; RETURN NEW; END $$; \
         CREATE TRIGGER slow_commit BEFORE INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION slow_commit();",
    );
    let gw = env.start(Role::Ingress).await;
    let url = gw.hook_url(&env.tenant, "keeta");
    let now_ms = Utc::now().timestamp_millis();
    let mut slow = Vec::new();
    for i in 0..2u64 {
        let message = keeta::message(1002, 300 + i, 145_541, now_ms);
        let envelope = keeta::envelope(
            KEETA_APP_ID,
            1002,
            &format!("slow-{i}"),
            145_541,
            &message,
            now_ms / 1000,
        );
        let body = keeta::signed_body(envelope, &env.callback_url, &env.keeta_secret);
        let url = url.clone();
        slow.push(tokio::spawn(async move {
            http().post(url).body(body).send().await.unwrap().status().as_u16()
        }));
    }
    // Until both sleep inside their commit.
    let deadline = Instant::now() + Duration::from_secs(10);
    while psql(
        &env,
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'",
    ) == "0"
    {
        assert!(Instant::now() < deadline, "the slow commits never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (body, _) = env.keeta_webhook(1002, 1);
    let started = Instant::now();
    let r = http().post(&url).body(body.clone()).send().await.unwrap();
    let took = started.elapsed();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["code"], 503, "Keeta-shaped: {answer}");
    assert!(took < Duration::from_secs(1), "shed at once, took {took:?}");
    assert_eq!(gw.metrics.rejected_count(&env.tenant, "keeta", "overloaded"), 1);
    for s in slow {
        assert_eq!(s.await.unwrap(), 200, "the held commits complete");
    }
    assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200, "the cap is given back");
    gw.stop().await;
}

// ---------- 6. secrets stored in clear ----------

#[tokio::test]
async fn configured_credential_headers_are_never_stored() {
    let token = unique("tok-");
    let token_value = token.clone();
    let env = TestEnv::with(move |t| {
        for source in t.sources.values_mut() {
            source.access.token = Some(HeaderToken {
                header: "x-hookgate-token".into(),
                value: hookgate_config::Secret::new(token_value.clone()),
            });
        }
    })
    .await;
    let gw = env.start(Role::Ingress).await;
    let url = gw.hook_url(&env.tenant, "keeta");
    let (good, message_id) = env.keeta_webhook(1002, 1);
    let r = http()
        .post(&url)
        .header("x-hookgate-token", &token)
        .body(good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Refused after the token matched (bad signature), and refused for a wrong token.
    let (other, _) = env.keeta_webhook(1002, 2);
    let bad_signature = hookgate_testkit::keeta::corrupt_signature(&other);
    let r = http()
        .post(&url)
        .header("x-hookgate-token", &token)
        .body(bad_signature)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let near_miss = format!("{token}x");
    let r = http()
        .post(&url)
        .header("x-hookgate-token", &near_miss)
        .body(other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let stored = gw.stored(&env.tenant, "keeta", &message_id).await;
    let rejections = gw.store.rejections(Some(&env.tenant_id())).await.unwrap();
    assert_eq!(rejections.len(), 2);
    let mut texts = vec![stored.headers.to_string()];
    texts.extend(rejections.iter().map(|r| format!("{} {}", r.headers, r.detail)));
    for text in &texts {
        assert!(!text.contains(&token), "a configured secret was stored: {text}");
        assert!(
            text.contains(r#""name":"x-hookgate-token","value":"<redacted>""#),
            "{text}"
        );
    }
    gw.stop().await;
}

// ---------- 7. Standard Webhooks contract ----------

#[tokio::test]
async fn standard_webhooks_refuses_non_json_with_400_and_missing_headers_with_401() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let url = gw.hook_url(&env.tenant, "webhooks");
    let not_json = env.sign("webhooks", b"not json at all".to_vec());
    let (status, _, _) = post_sample(&url, &not_json).await;
    assert_eq!(status, 400);
    let missing = hookgate_providers::Sample {
        body: br#"{"type":"invoice.paid","data":{"id":"1"}}"#.to_vec(),
        headers: Vec::new(),
    };
    let (status, _, _) = post_sample(&url, &missing).await;
    assert_eq!(status, 401);
    let reasons: Vec<String> = gw
        .store
        .rejections(Some(&env.tenant_id()))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.reason)
        .collect();
    assert!(reasons.contains(&"not_json".to_owned()), "{reasons:?}");
    assert!(reasons.contains(&"missing_signature".to_owned()), "{reasons:?}");
    assert_eq!(gw.store.count_notifications(&env.tenant_id()).await.unwrap(), 0);
    gw.stop().await;
}

// ---------- 9 and 11. refusals outside the handler, log forging ----------

#[tokio::test]
async fn other_methods_and_paths_are_refused_counted_and_recorded() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let r = http().get(gw.hook_url(&env.tenant, "keeta")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(r.headers().get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
    let r = http()
        .post(format!("{}/nowhere/%0aforged", gw.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(gw.metrics.rejected_count(&env.tenant, "keeta", "method_not_allowed"), 1);
    assert_eq!(gw.metrics.rejected_count("unknown", "unknown", "no_route"), 1);
    let ours = gw.store.rejections(Some(&env.tenant_id())).await.unwrap();
    assert!(ours.iter().any(|r| r.reason == "method_not_allowed"
        && r.http_status == 405
        && r.tenant.as_ref() == Some(&env.tenant_id())));
    // A path naming no configured tenant costs a counter, never a row.
    let unknown = gw.store.rejections(None).await.unwrap();
    assert!(unknown.is_empty(), "{unknown:?}");
    assert_eq!(
        gw.metrics.rejection_unrecorded_count("unknown", "unknown", "no_route"),
        1
    );
    gw.stop().await;
}

// ---------- 13. metrics ----------

#[tokio::test]
async fn metrics_negotiate_the_exposition_format() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::Ingress).await;
    let (body, _) = env.keeta_webhook(1002, 1);
    assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);
    let url = format!("{}/metrics", gw.admin_url);
    let plain = http().get(&url).send().await.unwrap();
    let ct = plain.headers()["content-type"].to_str().unwrap().to_owned();
    let text = plain.text().await.unwrap();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    assert!(
        text.contains("# TYPE hookgate_webhooks_received_total counter"),
        "{text}"
    );
    assert!(!text.contains("# EOF"));
    let open = http()
        .get(&url)
        .header("accept", "application/openmetrics-text; version=1.0.0,text/plain;q=0.5")
        .send()
        .await
        .unwrap();
    let ct = open.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    assert!(open.text().await.unwrap().ends_with("# EOF\n"));
    gw.stop().await;
}

// ---------- 6 and 11. what reaches the log ----------

/// A `hookgate serve --role ingress` child whose logs (info) go to a file.
struct LoggingGateway {
    child: std::process::Child,
    log: std::path::PathBuf,
    base_url: String,
}

impl LoggingGateway {
    async fn start(env: &TestEnv, token: &str) -> LoggingGateway {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let dir = env.write_config_dir(port, &unique("hookgate-test-unused-"));
        let tenant_file = dir.join("tenants.d/tenant.toml");
        let mut tenant = std::fs::read_to_string(&tenant_file).unwrap();
        tenant.push_str(
            "[sources.keeta.access]\ntoken = { header = \"x-hookgate-token\", value = { env = \"HOOKGATE_TEST_TOKEN\" } }\n",
        );
        std::fs::write(&tenant_file, tenant).unwrap();
        let log = dir.join("gateway.log");
        let exe = std::env::current_exe().unwrap();
        let bin = exe.parent().and_then(|d| d.parent()).unwrap().join("hookgate");
        assert!(
            bin.exists(),
            "{} not built: run `cargo test --workspace`",
            bin.display()
        );
        let out = std::fs::File::create(&log).unwrap();
        let child = std::process::Command::new(bin)
            .args(["--config", dir.to_str().unwrap(), "serve", "--role", "ingress"])
            .env("HOOKGATE_TEST_KEETA_SECRET", &env.keeta_secret)
            .env("HOOKGATE_TEST_TOKEN", token)
            .env("HOOKGATE__TELEMETRY__LOG_FILTER", "info")
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let base_url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while http().get(format!("{base_url}/healthz")).send().await.is_err() {
            assert!(Instant::now() < deadline, "gateway did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        LoggingGateway { child, log, base_url }
    }

    fn stop(mut self) -> String {
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log).unwrap()
    }
}

#[tokio::test]
async fn logs_hold_no_secret_and_no_forged_line() {
    let env = TestEnv::new().await;
    let token = unique("tok-");
    let gw = LoggingGateway::start(&env, &token).await;
    let url = format!("{}/hooks/{}/keeta", gw.base_url, env.tenant);
    let (good, _) = env.keeta_webhook(1002, 1);
    let (other, _) = env.keeta_webhook(1002, 2);
    let sends = [
        (url.clone(), Some(token.clone()), good),
        (url.clone(), Some(format!("{token}x")), other.clone()),
        (
            url.clone(),
            Some(token.clone()),
            hookgate_testkit::keeta::corrupt_signature(&other),
        ),
        (url.clone(), None, other.clone()),
        (
            format!("{}/hooks/{}/keeta%0aFORGED%20ERROR%20line", gw.base_url, env.tenant),
            None,
            other.clone(),
        ),
        (
            format!("{}/hooks/x%0aFORGED%20tenant/keeta", gw.base_url),
            None,
            other.clone(),
        ),
        (format!("{}/nowhere%0aFORGED%20path", gw.base_url), None, other),
    ];
    let mut statuses = Vec::new();
    for (url, token, body) in sends {
        let mut req = http().post(&url).body(body);
        if let Some(t) = token {
            req = req.header("x-hookgate-token", t);
        }
        statuses.push(req.send().await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [200, 401, 401, 401, 404, 404, 404]);
    let log = gw.stop();
    assert!(log.lines().count() > 5, "the gateway logged: {log}");
    assert!(!log.contains(&token), "the token reached the log:\n{log}");
    assert!(
        !log.contains(&env.keeta_secret),
        "the Keeta secret reached the log:\n{log}"
    );
    for line in log.lines() {
        assert!(!line.starts_with("FORGED"), "a forged log line:\n{log}");
    }
}

/// A request the database refuses (here: a trigger standing in for any
/// content-specific failure) gets 500 and a rejection row; the requests that
/// shared its group commit are stored and acknowledged.
#[tokio::test]
async fn a_request_the_database_refuses_gets_500_and_its_neighbours_commit() {
    let env = TestEnv::new().await;
    let db = &env.settings.service.database.url;
    let sql = "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ \
               BEGIN IF NEW.delivery_key = 'refuse-me' THEN RAISE EXCEPTION 'refused for the test' \
               USING ERRCODE = '22023'; END IF; RETURN NEW; END $$; \
               CREATE TRIGGER refuse_one BEFORE INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION refuse_one();";
    let out = std::process::Command::new("psql")
        .args([db.as_str(), "-v", "ON_ERROR_STOP=1", "-qc", sql])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let gw = env.start(Role::Ingress).await;
    let url = gw.hook_url(&env.tenant, "keeta");
    let now_ms = Utc::now().timestamp_millis();
    let message = keeta::message(1002, 1, 145_541, now_ms);
    let envelope = keeta::envelope(KEETA_APP_ID, 1002, "refuse-me", 145_541, &message, now_ms / 1000);
    let refused = keeta::signed_body(envelope, &env.callback_url, &env.keeta_secret);
    let mut requests = Vec::new();
    for i in 0..40u64 {
        let body = if i == 13 {
            refused.clone()
        } else {
            env.keeta_webhook(1002, 200 + i).0
        };
        let url = url.clone();
        requests.push(tokio::spawn(async move {
            let r = http().post(url).body(body).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }));
    }
    let mut statuses = BTreeMap::new();
    for r in requests {
        let (status, text) = r.await.unwrap();
        if status == 500 {
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["code"], 500, "Keeta-shaped body: {text}");
        }
        *statuses.entry(status).or_insert(0) += 1;
    }
    assert_eq!(statuses, BTreeMap::from([(200, 39), (500, 1)]));
    assert_eq!(gw.store.count_notifications(&env.tenant_id()).await.unwrap(), 39);
    let rejections = gw.store.rejections(Some(&env.tenant_id())).await.unwrap();
    assert_eq!(rejections.len(), 1);
    assert_eq!(
        (rejections[0].reason.as_str(), rejections[0].http_status),
        ("storage_refused", 500)
    );
    assert_eq!(gw.metrics.rejected_count(&env.tenant, "keeta", "storage_refused"), 1);
    gw.stop().await;
}
