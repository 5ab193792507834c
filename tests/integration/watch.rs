//! Watchfulness: source health from the start, quiet sources by cadence and
//! by baseline, a storm of refusals as one incident, one evaluator at a
//! time, operator events on the operator exchange, the incidents API.
//! The evaluator's background loop is off in these tests: each runs rounds
//! itself with its own clock.

use chrono::{DateTime, Duration as Span, DurationRound, Utc};
use hookgate_app::watch::Watcher;
use hookgate_app::Role;
use hookgate_config::AdminScope::{Operate, Read};
use hookgate_config::LiveTenants;
use hookgate_dispatcher::{Publisher, Subscription};
use hookgate_store::TrafficDelta;
use hookgate_testkit::{assert_no_more, receive, TestEnv, TestGateway};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// A test world whose tenant's `keeta` source has `quiet_after = 15m`, with
/// the background evaluator off.
async fn env_with_cadence() -> TestEnv {
    env_quiet_after(900).await
}

async fn env_quiet_after(secs: u64) -> TestEnv {
    let mut env = TestEnv::with(|t| {
        for (id, s) in t.sources.iter_mut() {
            if id.as_str() == "keeta" {
                s.watch.quiet_after = Some(Duration::from_secs(secs));
            }
        }
    })
    .await;
    env.settings.service.watch.enabled = false;
    env
}

/// An evaluator of its own on the test's database, started at `started`.
async fn watcher(env: &TestEnv, started: DateTime<Utc>) -> Watcher {
    let live = LiveTenants::new(env.settings.tenants.clone());
    let publisher = Publisher::new(
        env.settings.service.rabbitmq.clone(),
        live.clone(),
        Duration::from_secs(5),
    );
    Watcher::new(
        env.store().await,
        live,
        env.settings.service.watch.clone(),
        Arc::new(hookgate_telemetry::Metrics::new()),
        Some(Arc::new(publisher)),
        started,
    )
}

async fn ops_events(env: &TestEnv) -> Subscription {
    let r = &env.settings.service.rabbitmq;
    Subscription::operator_events(&r.url, &r.ops_exchange, &["#".to_owned()])
        .await
        .unwrap()
}

async fn flush(gw: &TestGateway) {
    hookgate_ingress::traffic::flush(&gw.store, &gw.metrics).await.unwrap();
}

/// Flushes the tally until `source`'s last accepted request is stored (the
/// gateway's own flusher may hold the tally at the moment).
async fn until_accepted_stored(gw: &TestGateway, w: &Watcher, source: &str, after: DateTime<Utc>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        flush(gw).await;
        let a = w.assess(Utc::now()).await.unwrap();
        let s = a.sources.iter().find(|s| s.source == source).unwrap();
        if s.last_accepted_at.is_some_and(|t| t >= after) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no accepted request stored for {source}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn states(t: &Option<Vec<hookgate_store::IncidentTransition>>) -> Vec<(String, String)> {
    (t.as_deref().unwrap_or_default().iter())
        .map(|t| (t.kind.as_str().to_owned(), t.state.as_str().to_owned()))
        .collect()
}

#[tokio::test]
async fn every_configured_source_has_health_series_from_the_start() {
    let env = TestEnv::new().await;
    let gw = env.start(Role::All).await;
    let text = gw.metrics_text().await;
    for source in ["keeta", "bh", "pagsmile-issuing"] {
        let quiet = format!(
            "hookgate_source_quiet{{tenant=\"{}\",source=\"{source}\"}} 0",
            env.tenant
        );
        assert!(text.contains(&quiet), "{quiet} missing before any traffic:\n{text}");
        let since = format!(
            "hookgate_source_seconds_since_accepted{{tenant=\"{}\",source=\"{source}\"}}",
            env.tenant
        );
        assert!(text.contains(&since), "{since} missing");
    }
    gw.stop().await;
}

#[tokio::test]
async fn a_quiet_source_opens_one_incident_and_resolves_when_it_pushes_again() {
    let env = env_with_cadence().await;
    let gw = env.start(Role::All).await;
    let mut events = ops_events(&env).await;
    let now = Utc::now();
    // Started 20 minutes ago, nothing accepted since: quiet by its cadence.
    let w = watcher(&env, now - Span::minutes(20)).await;
    let round = w.round(now).await.unwrap();
    let keeta = (round.assessment.sources.iter()).find(|s| s.source == "keeta").unwrap();
    assert!(keeta.silence.quiet, "{keeta:?}");
    assert_eq!(states(&round.transitions), vec![("source_quiet".into(), "open".into())]);
    // Sources without a cadence and without history are learning, not quiet.
    let bh = round.assessment.sources.iter().find(|s| s.source == "bh").unwrap();
    assert_eq!(bh.state.as_str(), "learning");
    // Still quiet a minute later: no new transition.
    let again = w.round(now + Span::minutes(1)).await.unwrap();
    assert_eq!(states(&again.transitions), vec![]);
    // It pushes: the next round resolves it.
    let (body, _) = env.keeta_webhook(1002, 1);
    let before = Utc::now() - Span::seconds(1);
    assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);
    until_accepted_stored(&gw, &w, "keeta", before).await;
    let back = w.round(Utc::now() + Span::seconds(1)).await.unwrap();
    assert_eq!(
        states(&back.transitions),
        vec![("source_quiet".into(), "resolved".into())]
    );
    // One operator event per transition, in order, as CloudEvents.
    let got = receive(&mut events, 2, Duration::from_secs(10)).await;
    let keys: Vec<&str> = got.iter().map(|m| m.routing_key.as_str()).collect();
    assert_eq!(keys, ["source_quiet.open", "source_quiet.resolved"]);
    let open: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(open["type"], "hookgate.incident.source_quiet.open");
    assert_eq!(open["specversion"], "1.0");
    assert_eq!(open["data"]["tenant"], env.tenant.as_str());
    assert_eq!(open["data"]["source"], "keeta");
    assert_eq!(got[0].message_id.as_deref(), open["id"].as_str());
    assert_no_more(&mut events, Duration::from_millis(500)).await;
    gw.stop().await;
}

#[tokio::test]
async fn a_storm_of_bad_signatures_is_one_incident_with_one_event_per_transition() {
    let mut env = env_with_cadence().await;
    let gw = env.start(Role::All).await;
    // A live source (not onboarding), whose provider rotates its secret.
    gw.prove_recipe(&env.tenant, "keeta").await;
    let mut events = ops_events(&env).await;
    let real = env.keeta_secret.clone();
    env.keeta_secret = "rotated-by-the-provider".into();
    let bodies: Vec<Vec<u8>> = (0..1000).map(|i| env.keeta_webhook(1002, 10_000 + i).0).collect();
    env.keeta_secret = real;
    let tenant = env.tenant.clone();
    let codes = futures_util::future::join_all(bodies.chunks(100).map(|chunk| {
        let (gw, tenant) = (&gw, &tenant);
        async move {
            let mut codes = Vec::new();
            for b in chunk {
                codes.push(gw.post(tenant, "keeta", b.clone()).await);
            }
            codes
        }
    }))
    .await;
    assert!(codes.iter().flatten().all(|c| *c == 401));
    let w = watcher(&env, Utc::now()).await;
    // Every refusal in the rollup (the gateway's own flusher may hold part of the tally).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        flush(&gw).await;
        let a = w.assess(Utc::now()).await.unwrap();
        let keeta = a.sources.iter().find(|s| s.source == "keeta").unwrap();
        if keeta.refusals.iter().map(|r| r.1).sum::<i64>() == 1000 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{:?}", keeta.refusals);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let round = w.round(Utc::now()).await.unwrap();
    assert_eq!(
        states(&round.transitions),
        vec![("rejection_spike".into(), "open".into())]
    );
    let keeta = (round.assessment.sources.iter()).find(|s| s.source == "keeta").unwrap();
    assert_eq!(keeta.state.as_str(), "refused", "{keeta:?}");
    assert_eq!(keeta.refused_by.as_deref(), Some("bad_signature"));
    // The incident counts the storm and shows samples; more rounds add nothing.
    for i in 1..5 {
        let r = w.round(Utc::now() + Span::seconds(i)).await.unwrap();
        assert_eq!(states(&r.transitions), vec![]);
    }
    let open = gw.store.incidents(true, None, None, None, 10).await.unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].cause, "bad_signature");
    assert_eq!(open[0].count, 1000);
    assert!(!open[0].samples.is_empty());
    let got = receive(&mut events, 1, Duration::from_secs(10)).await;
    assert_eq!(got[0].routing_key, "rejection_spike.open");
    assert_no_more(&mut events, Duration::from_millis(500)).await;
    // Once the cause has been quiet for the window, it resolves.
    let later = Utc::now() + Span::seconds(env.settings.service.watch.rejection_window_secs as i64 + 60);
    let r = w.round(later).await.unwrap();
    assert!(states(&r.transitions).contains(&("rejection_spike".into(), "resolved".into())));
    gw.stop().await;
}

#[tokio::test]
async fn two_evaluators_at_once_make_each_transition_once() {
    let env = env_with_cadence().await;
    let now = Utc::now();
    let a = watcher(&env, now - Span::minutes(20)).await;
    let b = watcher(&env, now - Span::minutes(20)).await;
    let mut made = 0;
    let mut skipped = 0;
    for i in 0..20 {
        let at = now + Span::seconds(i);
        let (ra, rb) = tokio::join!(a.round(at), b.round(at));
        for r in [ra.unwrap(), rb.unwrap()] {
            // Both judge (their gauges); one at a time decides.
            assert!(r.assessment.sources.iter().any(|s| s.silence.quiet));
            match r.transitions {
                Some(t) => made += t.len(),
                None => skipped += 1,
            }
        }
    }
    assert_eq!(
        made, 1,
        "one transition in all, whoever made it ({skipped} rounds found the lock taken)"
    );
    let store = env.store().await;
    let open = store.incidents(false, None, None, None, 10).await.unwrap();
    assert_eq!(open.len(), 1, "one quiet source, one incident: {open:?}");
    let detail = store.incident(open[0].id).await.unwrap().unwrap();
    assert_eq!(detail.transitions.len(), 1, "{detail:?}");
}

#[tokio::test]
async fn a_source_without_cadence_is_judged_by_its_baseline_from_stored_traffic() {
    let mut env = TestEnv::new().await;
    env.settings.service.watch.enabled = false;
    let store = env.store().await;
    let now = Utc::now();
    let hour = now.duration_trunc(Span::hours(1)).unwrap();
    // Three weeks of 30 accepted webhooks an hour, every hour; the last
    // one 20 minutes ago: 10 were expected since, so it is quiet.
    let deltas: Vec<TrafficDelta> = (1..=21 * 24)
        .map(|h| TrafficDelta {
            tenant: env.tenant.clone(),
            source: "bh".into(),
            hour: hour - Span::hours(h),
            outcome: "accepted".into(),
            reason: String::new(),
            count: 30,
            // The start of each hour: all before the last one below, whatever the minute now.
            last_at: hour - Span::hours(h),
        })
        .collect();
    store.add_traffic(&deltas).await.unwrap();
    let last = vec![TrafficDelta {
        tenant: env.tenant.clone(),
        source: "bh".into(),
        hour: (now - Span::minutes(20)).duration_trunc(Span::hours(1)).unwrap(),
        outcome: "accepted".into(),
        reason: String::new(),
        count: 1,
        last_at: now - Span::minutes(20),
    }];
    store.add_traffic(&last).await.unwrap();
    let w = watcher(&env, now - Span::days(1)).await;
    let health = w.assess(now).await.unwrap();
    let bh = health.sources.iter().find(|s| s.source == "bh").unwrap();
    assert_eq!(bh.silence.judged_by, hookgate_watch::Judge::Baseline, "{bh:?}");
    assert!(bh.silence.quiet, "{bh:?}");
    assert!((bh.silence.expected.unwrap() - 10.0).abs() < 1.0, "{bh:?}");
    // Five minutes after the last: 2.5 expected, not quiet.
    let soon = w.assess(now - Span::minutes(15)).await.unwrap();
    let bh = soon.sources.iter().find(|s| s.source == "bh").unwrap();
    assert!(!bh.silence.quiet, "{bh:?}");
}

#[tokio::test]
async fn incidents_are_listed_acknowledged_and_resolved_through_the_api_within_scope() {
    // Quiet after one second, so that the gateway's own judgement (over the
    // API, on the real clock) sees it too.
    let mut env = env_quiet_after(1).await;
    let other = env.add_tenant(|_| {});
    let ops = env.admin_token("ops", &[Read, Operate], None);
    let reader = env.admin_token("reader", &[Read], None);
    let limited = env.admin_token("other-team", &[Read, Operate], Some(&[other.as_str()]));
    let gw = env.start(Role::All).await;
    let mut events = ops_events(&env).await;
    let now = Utc::now();
    let w = watcher(&env, now - Span::minutes(20)).await;
    let first = w.round(now).await.unwrap();
    assert!(
        first.transitions.is_some(),
        "round skipped: {:?}",
        first.assessment.conditions
    );
    let (status, page) = gw.admin_get("/v1/incidents", Some(&reader)).await;
    assert_eq!(status, 200, "{page}");
    let mine: Vec<&Value> = (page["items"].as_array().unwrap().iter())
        .filter(|i| i["tenant"] == env.tenant.as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{page}");
    let id = mine[0]["id"].as_i64().unwrap();
    assert_eq!(mine[0]["kind"], "source_quiet");
    // Health over the API, the same judgement.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, health) = gw
        .admin_get(&format!("/v1/sources/health?tenant={}", env.tenant), Some(&reader))
        .await;
    assert_eq!(status, 200, "{health}");
    let keeta = (health.as_array().unwrap().iter())
        .find(|s| s["source"] == "keeta")
        .unwrap();
    assert_eq!(keeta["state"], "quiet");
    assert_eq!(keeta["judged_by"], "cadence");
    // The CLI says the same, through the typed client.
    let (ok, out, err) =
        crate::admin::hookgate(&gw.admin_url, Some(&reader), &["health", "--tenant", &env.tenant]).await;
    assert!(ok, "{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("{}/keeta", env.tenant)) && l.contains("quiet")),
        "{out}"
    );
    let (ok, out, err) = crate::admin::hookgate(&gw.admin_url, Some(&reader), &["incidents", "list"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("source_quiet") && out.contains(&id.to_string()), "{out}");
    // A reader cannot acknowledge; another tenant's token does not see it.
    let path = format!("/v1/incidents/{id}/acknowledge");
    let (status, _) = gw.admin_post(&path, Some(&reader), Value::Null).await;
    assert_eq!(status, 403);
    let (status, _) = gw.admin_post(&path, Some(&limited), Value::Null).await;
    assert_eq!(status, 404);
    let (status, _) = gw.admin_get(&format!("/v1/incidents/{id}"), Some(&limited)).await;
    assert_eq!(status, 404);
    let (status, page) = gw.admin_get("/v1/incidents", Some(&limited)).await;
    assert_eq!(status, 200);
    assert!(page["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["tenant"] == other.as_str()));
    // The operator acknowledges, then resolves; twice is a conflict.
    let (status, detail) = gw.admin_post(&path, Some(&ops), Value::Null).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["incident"]["state"], "acknowledged");
    let (status, _) = gw.admin_post(&path, Some(&ops), Value::Null).await;
    assert_eq!(status, 409);
    let (status, detail) = gw
        .admin_post(&format!("/v1/incidents/{id}/resolve"), Some(&ops), Value::Null)
        .await;
    assert_eq!(status, 200, "{detail}");
    let states: Vec<&str> = (detail["transitions"].as_array().unwrap().iter())
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["open", "acknowledged", "resolved"]);
    assert_eq!(detail["transitions"][1]["actor"], "ops");
    // Audited, and every transition is an operator event.
    let (_, audit) = gw.admin_get("/v1/audit", Some(&ops)).await;
    let actions: Vec<&str> = (audit["items"].as_array().unwrap().iter())
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert!(actions.contains(&"incident.acknowledged"), "{actions:?}");
    w.publish().await.unwrap();
    let got = receive(&mut events, 3, Duration::from_secs(10)).await;
    let mut keys: Vec<String> = got.iter().map(|m| m.routing_key.clone()).collect();
    keys.retain(|k| k.starts_with("source_quiet"));
    assert!(keys.len() >= 3, "{keys:?}");
    gw.stop().await;
}

/// The names `/metrics` exposes: each family's own name from its `# TYPE`
/// line, with the sample names its type adds (`_total`, `_bucket`, ...).
fn exposed(text: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let mut parts = rest.split_whitespace();
        let (Some(name), Some(kind)) = (parts.next(), parts.next()) else {
            continue;
        };
        names.insert(name.to_owned());
        match kind {
            "counter" => {
                names.insert(format!("{name}_total"));
            }
            "histogram" => {
                for s in ["_bucket", "_sum", "_count"] {
                    names.insert(format!("{name}{s}"));
                }
            }
            _ => {}
        }
    }
    names
}

/// Every `hookgate_*` name in a file.
fn queried(file: &str) -> std::collections::BTreeSet<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut names = std::collections::BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("hookgate_") {
        let start = i + at;
        let mut end = start + "hookgate_".len();
        while end < bytes.len() && (bytes[end].is_ascii_lowercase() || bytes[end] == b'_') {
            end += 1;
        }
        let before_ok = start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        if before_ok {
            names.insert(text[start..end].trim_end_matches('_').to_owned());
        }
        i = end;
    }
    assert!(!names.is_empty(), "no metric in {file}");
    names
}

#[tokio::test]
async fn every_metric_the_alert_rules_and_the_dashboard_query_is_exposed() {
    let mut env = TestEnv::new().await;
    let gw = env.start(Role::All).await;
    // Families appear with their first sample: one webhook published, one
    // refused, one parked (an issuing notification whose payload cannot be decrypted).
    let (body, _) = env.keeta_webhook(1002, 1);
    assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);
    let real = std::mem::replace(&mut env.keeta_secret, "rotated".into());
    let (body, _) = env.keeta_webhook(1002, 2);
    env.keeta_secret = real;
    assert_eq!(gw.post(&env.tenant, "keeta", body).await, 401);
    env.post_parking(&gw, 3).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let text = loop {
        let text = gw.metrics_text().await;
        let done = [
            "hookgate_events_published_total{",
            "hookgate_notifications_parked_total{",
        ]
        .iter()
        .all(|n| text.contains(n));
        if done || tokio::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let exposed = exposed(&text);
    for file in ["deploy/prometheus/hookgate-rules.yml", "deploy/grafana/hookgate.json"] {
        let missing: Vec<String> = queried(file).difference(&exposed).cloned().collect();
        assert!(
            missing.is_empty(),
            "{file} queries metrics /metrics does not expose: {missing:?}"
        );
    }
    gw.stop().await;
}

/// What the receiver got: headers and body of each POST.
type Got = Arc<std::sync::Mutex<Vec<(std::collections::BTreeMap<String, String>, Vec<u8>)>>>;

/// A receiver of operator events that refuses the first POST (500) and
/// takes the rest.
fn receiver() -> (String, Got, actix_web::dev::ServerHandle) {
    use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
    let got: Got = Arc::default();
    let seen = got.clone();
    let server = HttpServer::new(move || {
        let seen = seen.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let seen = seen.clone();
            async move {
                let headers = (req.headers().iter())
                    .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
                    .collect();
                let mut all = seen.lock().unwrap();
                all.push((headers, body.to_vec()));
                if all.len() == 1 {
                    HttpResponse::InternalServerError().finish()
                } else {
                    HttpResponse::NoContent().finish()
                }
            }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://{}/hooks/ops", server.addrs()[0]);
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    (url, got, handle)
}

#[tokio::test]
async fn operator_events_are_posted_signed_and_retried_until_taken() {
    let mut env = env_with_cadence().await;
    let (url, got, server) = receiver();
    let key = b"a-test-key-for-operator-events!!".to_vec();
    env.settings.service.watch.notify_url = url;
    env.settings.service.watch.notify_key = Some(hookgate_core::SecretBytes::new(key.clone()));
    let gw = env.start(Role::All).await;
    let now = Utc::now();
    let w = watcher(&env, now - Span::minutes(20)).await;
    let round = w.round(now).await.unwrap();
    assert_eq!(
        states(&round.transitions).len(),
        1,
        "{:?} {:?}",
        round.transitions,
        round.assessment.conditions
    );
    // Refused once, then delivered after the backoff (2 s).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while got.lock().unwrap().len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not retried: {:?}",
            got.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "delivered once taken, never again");
    for (headers, body) in &got {
        // Verified as a Standard Webhooks receiver does.
        let id = &headers["webhook-id"];
        let ts = &headers["webhook-timestamp"];
        let mac = hookgate_signature::hmac_sha256(&key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
        let expected = format!("v1,{}", hookgate_signature::encode_base64(&mac));
        assert!(
            headers["webhook-signature"].split(' ').any(|s| s == expected),
            "{headers:?}"
        );
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(event["type"], "hookgate.incident.source_quiet.open");
        assert_eq!(event["id"].as_str(), Some(id.as_str()));
        assert_eq!(headers["content-type"], "application/cloudevents+json");
    }
    server.stop(true).await;
    gw.stop().await;
}

/// A self-signed certificate for localhost expiring on `expires` (a day).
fn certificate_expiring(expires: DateTime<Utc>) -> String {
    use chrono::Datelike;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(expires.year(), expires.month() as u8, expires.day() as u8);
    let key = rcgen::KeyPair::generate().unwrap();
    params.self_signed(&key).unwrap().pem()
}

fn kinds(t: &Option<Vec<hookgate_store::IncidentTransition>>, kind: &str) -> Vec<String> {
    states(t)
        .into_iter()
        .filter(|(k, _)| k == kind)
        .map(|(_, s)| s)
        .collect()
}

#[tokio::test]
async fn the_gateway_s_own_conditions_and_notices_are_incidents() {
    let mut env = TestEnv::new().await;
    env.settings.service.watch.enabled = false;
    env.settings.service.watch.relay_stall_secs = 1;
    env.settings.service.watch.tls_expiry_days = 14;
    let gw = env.start(Role::Ingress).await;
    let mut ops = ops_events(&env).await;

    // Relay not publishing: a webhook due for more than relay_stall_secs and
    // no relay running (an ingress-only gateway), resolved once one publishes.
    let (body, _) = env.keeta_webhook(1002, 1);
    assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let dir = std::env::temp_dir().join(hookgate_testkit::unique("hookgate-cert-"));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = dir.join("cert.pem");
    std::fs::write(&cert, certificate_expiring(Utc::now() + Span::days(3))).unwrap();
    let broken_redis = {
        let mut r = env.settings.service.redis.clone();
        r.url = "redis://127.0.0.1:1".to_owned();
        r.op_timeout_ms = 200;
        r
    };
    // Started a minute ago: past the grace in which dependencies are not judged.
    let w = watcher(&env, Utc::now() - Span::minutes(1))
        .await
        .with_dependencies(vec![Arc::new(hookgate_dispatcher::RedisProbe(Arc::new(
            hookgate_dispatcher::Dedupe::new(broken_redis),
        )))])
        .with_tls_certificate(Some(cert.clone()));
    let round = w.round(Utc::now()).await.unwrap();
    assert_eq!(kinds(&round.transitions, "relay_not_publishing"), ["open"]);
    assert_eq!(kinds(&round.transitions, "dependency_down"), ["open"]);
    assert_eq!(kinds(&round.transitions, "tls_expiry"), ["open"]);
    let down = round
        .assessment
        .conditions
        .iter()
        .find(|c| c.key.kind.as_str() == "dependency_down")
        .unwrap();
    assert_eq!(down.key.cause, "redis");

    // Each recovers: a relay publishes, Redis answers, the certificate is renewed.
    let (relay, _) = env.dispatcher(env.settings.service.dispatcher.clone()).await;
    assert_eq!(relay.try_once().await.unwrap().events, 1);
    std::fs::write(&cert, certificate_expiring(Utc::now() + Span::days(90))).unwrap();
    let healthy = watcher(&env, Utc::now() - Span::minutes(1))
        .await
        .with_dependencies(vec![Arc::new(hookgate_dispatcher::RedisProbe(Arc::new(
            hookgate_dispatcher::Dedupe::new(env.settings.service.redis.clone()),
        )))])
        .with_tls_certificate(Some(cert.clone()));
    let round = healthy.round(Utc::now()).await.unwrap();
    for kind in ["relay_not_publishing", "dependency_down", "tls_expiry"] {
        assert_eq!(kinds(&round.transitions, kind), ["resolved"], "{kind}");
    }
    // A process that cannot see a dependency (no probes) leaves its
    // incidents alone instead of resolving them.
    w.round(Utc::now()).await.unwrap();
    let blind = watcher(&env, Utc::now()).await;
    let round = blind.round(Utc::now()).await.unwrap();
    assert!(
        kinds(&round.transitions, "dependency_down").is_empty(),
        "{:?}",
        round.transitions
    );

    // A registered verification key added and removed: two notices, each
    // recorded resolved with one operator event.
    let (tenant, source) = (env.tenant_id(), hookgate_testkit::id::<hookgate_core::SourceId>("bh"));
    assert!(gw
        .store
        .add_provider_key(&tenant, &source, "ab12cd34", "MIIB", None)
        .await
        .unwrap());
    assert!(!gw
        .store
        .add_provider_key(&tenant, &source, "ab12cd34", "MIIB", None)
        .await
        .unwrap());
    assert!(gw
        .store
        .remove_provider_key(&tenant, &source, "ab12cd34")
        .await
        .unwrap());
    w.publish().await.unwrap();
    let events = receive(&mut ops, 9, Duration::from_secs(10)).await;
    let keys: Vec<&str> = events.iter().map(|m| m.routing_key.as_str()).collect();
    for (key, n) in [
        ("relay_not_publishing.open", 1),
        // Opened again by the evaluator that still cannot reach its Redis.
        ("dependency_down.open", 2),
        ("tls_expiry.open", 1),
        ("relay_not_publishing.resolved", 1),
        ("dependency_down.resolved", 1),
        ("tls_expiry.resolved", 1),
        ("key_added.resolved", 1),
        ("key_removed.resolved", 1),
    ] {
        assert_eq!(keys.iter().filter(|k| **k == key).count(), n, "{key} in {keys:?}");
    }
    let added = events.iter().find(|m| m.routing_key == "key_added.resolved").unwrap();
    let event: Value = serde_json::from_slice(&added.body).unwrap();
    assert_eq!(event["data"]["cause"], "ab12cd34");
    assert_eq!(event["subject"], format!("{}/bh", env.tenant));
    gw.stop().await;
}

#[tokio::test]
async fn a_tenant_s_own_endpoint_receives_its_incidents_and_no_one_else_s() {
    let (url, got, server) = receiver();
    let key = b"a-key-of-the-tenant-s-own-hook!!".to_vec();
    let notify = hookgate_config::TenantNotify {
        url,
        key: hookgate_core::SecretBytes::new(key.clone()),
    };
    let mut env = TestEnv::with(|t| {
        if let Some(s) = t.source_mut("keeta") {
            s.watch.quiet_after = Some(Duration::from_secs(900));
        }
        t.notify = Some(notify);
    })
    .await;
    env.settings.service.watch.enabled = false;
    // Another tenant with the same quiet source and no endpoint of its own.
    let other = env.add_tenant(|t| t.notify = None);
    let gw = env.start(Role::All).await;
    let now = Utc::now();
    let w = watcher(&env, now - Span::minutes(20)).await;
    let round = w.round(now).await.unwrap();
    assert_eq!(states(&round.transitions).len(), 2, "{:?}", round.transitions);
    // Refused once, then delivered; the other tenant's never comes.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while got.lock().unwrap().len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "not delivered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "one event, refused once and delivered once");
    for (headers, body) in &got {
        let (id, ts) = (&headers["webhook-id"], &headers["webhook-timestamp"]);
        let mac = hookgate_signature::hmac_sha256(&key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
        assert_eq!(
            headers["webhook-signature"],
            format!("v1,{}", hookgate_signature::encode_base64(&mac)),
            "signed with the tenant's key"
        );
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(event["subject"], format!("{}/keeta", env.tenant), "not {other}'s");
    }
    server.stop(true).await;
    gw.stop().await;
}
