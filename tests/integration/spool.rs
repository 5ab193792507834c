//! The spool (`[spool] dir`): while PostgreSQL is away, verified requests
//! are journaled locally and answered with the provider's success, then
//! drained into PostgreSQL once it is back. PostgreSQL is taken away from
//! the gateway under test only (a proxy the test cuts), never stopped.

use hookgate_app::Role;
use hookgate_testkit::proxy::TcpProxy;
use hookgate_testkit::{assert_no_more, receive, unique, TestEnv};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// A test tenant whose gateway reaches PostgreSQL through `proxy`, with a
/// spool in a fresh directory.
async fn env_through(proxy: &TcpProxy) -> (TestEnv, std::path::PathBuf) {
    let mut env = TestEnv::new().await;
    let dir = std::env::temp_dir().join(unique("hookgate-spool-"));
    let db = &mut env.settings.service.database;
    db.url = proxy.url_through(&db.url);
    db.acquire_timeout_ms = 500;
    env.settings.service.spool.dir = dir.to_string_lossy().into_owned();
    (env, dir)
}

async fn pg_proxy() -> TcpProxy {
    TcpProxy::start(([127, 0, 0, 1], 5432).into()).await
}

#[tokio::test]
async fn verified_requests_are_spooled_while_postgres_is_away_and_drained_once_after() {
    let proxy = pg_proxy().await;
    let (mut env, dir) = env_through(&proxy).await;
    let token = env.admin_token("ops", &[hookgate_config::AdminScope::Read], None);
    let mut sub = env.subscribe(&["#"]).await;
    let gw = env.start(Role::All).await;
    let tenant = env.tenant.clone();
    let mut sent = Vec::new();
    for seq in 0..3 {
        let (body, id) = env.keeta_webhook(1002, seq);
        assert_eq!(gw.post(&tenant, "keeta", body).await, 200);
        sent.push(id);
    }
    receive(&mut sub, 3, Duration::from_secs(20)).await;
    // Settled (published and recorded) before the cut.
    let store = env.store().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while store.outbox_stats().await.unwrap().pending > 0 {
        assert!(tokio::time::Instant::now() < deadline, "not settled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // PostgreSQL goes away: every verified request is still answered 200.
    proxy.set_up(false);
    let mut during = Vec::new();
    for seq in 3..23 {
        let (body, id) = env.keeta_webhook(1002, seq);
        assert_eq!(gw.post(&tenant, "keeta", body.clone()).await, 200, "seq {seq}");
        if seq % 5 == 0 {
            // The provider retries a delivery it had an answer for: stored once.
            assert_eq!(gw.post(&tenant, "keeta", body).await, 200);
        }
        during.push(id);
    }
    // A forged one is still refused.
    let forged = hookgate_testkit::keeta::corrupt_signature(&env.keeta_webhook(1002, 99).0);
    assert_eq!(gw.post(&tenant, "keeta", forged).await, 401);
    assert_eq!(gw.metrics.spooled_count(&tenant, "keeta"), 24);
    let (_, ready) = gw.admin_get("/readyz", None).await;
    assert_eq!(
        ready["degraded"]["postgres"].as_str().map(|s| s.contains("spooled")),
        Some(true),
        "{ready}"
    );
    assert!(std::fs::read_dir(&dir).unwrap().count() >= 1);

    // Back: the journal drains, each delivery is stored and published once.
    proxy.set_up(true);
    let got = receive(&mut sub, during.len(), Duration::from_secs(60)).await;
    assert_no_more(&mut sub, Duration::from_secs(2)).await;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for m in &got {
        let e: Value = serde_json::from_slice(&m.body).unwrap();
        *seen
            .entry(e["raw"]["messageId"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    for id in &during {
        assert_eq!(seen.get(id), Some(&1), "{id} published once: {seen:?}");
    }
    assert_eq!(store.count_notifications(&env.tenant_id()).await.unwrap(), 23);
    let retried = gw.stored(&tenant, "keeta", &during[2]).await;
    assert_eq!(retried.delivery_count, 2, "the retry folded into its delivery");
    assert!(retried.verified);
    assert_eq!(gw.metrics.spool_drained_count(), 24);
    // Over: the spell is on record as a notice (none could be written while it lasted).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let notice = loop {
        let (_, page) = gw.admin_get("/v1/incidents?scope=all&kind=spooled", Some(&token)).await;
        if let Some(first) = page["items"].as_array().and_then(|i| i.first()).cloned() {
            break first;
        }
        assert!(tokio::time::Instant::now() < deadline, "no spooled notice: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        (notice["count"].as_i64(), notice["state"].as_str()),
        (Some(24), Some("resolved")),
        "{notice}"
    );
    // Empty again: new requests go straight to PostgreSQL.
    let (body, _) = env.keeta_webhook(1002, 50);
    assert_eq!(gw.post(&tenant, "keeta", body).await, 200);
    assert_eq!(gw.metrics.spooled_count(&tenant, "keeta"), 24);
    receive(&mut sub, 1, Duration::from_secs(20)).await;
    gw.stop().await;
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn a_full_spool_answers_503_as_without_one() {
    let proxy = pg_proxy().await;
    let (mut env, dir) = env_through(&proxy).await;
    env.settings.service.spool.max_bytes = 6 * 1024;
    let gw = env.start(Role::Ingress).await;
    proxy.set_up(false);
    let mut statuses = Vec::new();
    for seq in 0..12 {
        let (body, _) = env.keeta_webhook(1002, seq);
        statuses.push(gw.post(&env.tenant, "keeta", body).await);
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert!(ok >= 1 && statuses[ok..].iter().all(|s| *s == 503), "{statuses:?}");
    assert_eq!(gw.metrics.spooled_count(&env.tenant, "keeta"), ok as u64);
    proxy.set_up(true);
    let store = env.store().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while store.count_notifications(&env.tenant_id()).await.unwrap() < ok as i64 {
        assert!(tokio::time::Instant::now() < deadline, "the spool did not drain");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    gw.stop().await;
    std::fs::remove_dir_all(dir).ok();
}

/// A crash in the middle of an append leaves a torn record at the end of
/// the journal: the next start cuts it off, reports it, and drains only
/// the whole entries before it (the torn one was never answered 2xx).
#[tokio::test]
async fn a_torn_journal_tail_is_cut_and_reported_not_replayed() {
    let proxy = pg_proxy().await;
    let (env, dir) = env_through(&proxy).await;
    let gw = env.start(Role::Ingress).await;
    proxy.set_up(false);
    let mut ids = Vec::new();
    for seq in 0..3 {
        let (body, id) = env.keeta_webhook(1002, seq);
        assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);
        ids.push(id);
    }
    gw.stop().await;
    // The last record loses its end, as a crash mid-write would leave it.
    let segment = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0))
        .max()
        .unwrap();
    let len = std::fs::metadata(&segment).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap()
        .set_len(len - 10)
        .unwrap();

    proxy.set_up(true);
    let gw = env.start(Role::Ingress).await;
    assert!(gw.metrics.spool_cut_count() > 0, "the cut is counted");
    let store = env.store().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while store.count_notifications(&env.tenant_id()).await.unwrap() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the whole entries were not drained"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        store.count_notifications(&env.tenant_id()).await.unwrap(),
        2,
        "the torn one is not replayed"
    );
    gw.stored(&env.tenant, "keeta", &ids[0]).await;
    gw.stored(&env.tenant, "keeta", &ids[1]).await;
    gw.stop().await;
    std::fs::remove_dir_all(dir).ok();
}

/// The journal's records (`HGS1` · length · 8 bytes of SHA-256 · payload)
/// as (head JSON, body).
fn parse_journal(data: &[u8]) -> Vec<(Value, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 16 <= data.len() {
        let len = u32::from_le_bytes(data[at + 4..at + 8].try_into().unwrap()) as usize;
        let payload = &data[at + 16..at + 16 + len];
        let head_len = u32::from_le_bytes(payload[..4].try_into().unwrap()) as usize;
        let head: Value = serde_json::from_slice(&payload[4..4 + head_len]).unwrap();
        out.push((head, payload[4 + head_len..].to_vec()));
        at += 16 + len;
    }
    out
}

fn journal_record(head: &Value, body: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let head = serde_json::to_vec(head).unwrap();
    let mut payload = (head.len() as u32).to_le_bytes().to_vec();
    payload.extend_from_slice(&head);
    payload.extend_from_slice(body);
    let mut out = b"HGS1".to_vec();
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&sha2::Sha256::digest(&payload)[..8]);
    out.extend_from_slice(&payload);
    out
}

/// An entry this build cannot read (here: a kind it does not know, as after
/// a downgrade) is set aside, not drained, and does not hold the others
/// back: the spool empties and new requests go to PostgreSQL again.
#[tokio::test]
async fn an_unreadable_entry_is_set_aside_and_holds_nothing_back() {
    let proxy = pg_proxy().await;
    let (env, dir) = env_through(&proxy).await;
    let gw = env.start(Role::Ingress).await;
    proxy.set_up(false);
    for seq in 0..3 {
        let (body, _) = env.keeta_webhook(1002, seq);
        assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);
    }
    gw.stop().await;
    // The entries may span segments (the drainer sealed one meanwhile):
    // the first segment's first entry becomes unreadable.
    let mut segments: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0))
        .collect();
    segments.sort();
    let total: usize = segments
        .iter()
        .map(|s| parse_journal(&std::fs::read(s).unwrap()).len())
        .sum();
    assert_eq!(total, 3);
    let mut records = parse_journal(&std::fs::read(&segments[0]).unwrap());
    records[0].0["kind"] = Value::String("no-such-kind".into());
    let rewritten: Vec<u8> = records.iter().flat_map(|(h, b)| journal_record(h, b)).collect();
    std::fs::write(&segments[0], rewritten).unwrap();

    proxy.set_up(true);
    let gw = env.start(Role::Ingress).await;
    let store = env.store().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while gw.metrics.spool_set_aside_count() < 1 || store.count_notifications(&env.tenant_id()).await.unwrap() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the readable entries were not drained"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kept = std::fs::read(dir.join("unreadable.journal")).unwrap();
    assert_eq!(
        parse_journal(&kept)[0].0["kind"],
        "no-such-kind",
        "kept whole for an operator"
    );
    // Empty again: a new request is stored directly.
    let (body, id) = env.keeta_webhook(1002, 9);
    assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);
    gw.stored(&env.tenant, "keeta", &id).await;
    assert_eq!(gw.metrics.spooled_count(&env.tenant, "keeta"), 0);
    gw.stop().await;
    std::fs::remove_dir_all(dir).ok();
}
