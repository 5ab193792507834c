//! The consumer side on the real gateway and RabbitMQ: every published
//! message carries Standard Webhooks headers signed by each of the tenant's
//! keys (replays too), the public keys are served to readers of that tenant
//! only, and the consumer SDK (`hookgate-consumer`) verifies, decodes, drops
//! redeliveries through its PostgreSQL inbox, refuses a tampered body,
//! requeues on a handler error and loses nothing when it stops mid-message.

use hookgate_app::Role;
use hookgate_config::AdminScope::Read;
use hookgate_consumer::{Config, Consumer, Handler, HandlerError, Inbox, InboxError, Keys, Message, PgInbox};
use hookgate_dispatcher::Received;
use hookgate_signature::standard_webhooks::{Ed25519Key, Signer};
use hookgate_testkit::{receive, unique, TestEnv, TestGateway};
use serde_json::json;
use sqlx::{PgPool, Postgres, Transaction};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const OLD_SECRET: &str = "whsec_b2xkLXNpZ25pbmctc2VjcmV0LW9mLWFjbWU=";
const NEW_SECRET: &str = "whsec_bmV3LXNpZ25pbmctc2VjcmV0LW9mLWFjbWU=";

fn secret_bytes(whsec: &str) -> Vec<u8> {
    hookgate_signature::decode_base64(whsec.trim_start_matches("whsec_")).unwrap()
}

/// A tenant signing with two secrets and one Ed25519 key; returns the env
/// and the key's `whpk_` public half.
async fn signing_env() -> (TestEnv, String) {
    let ed = Ed25519Key::from_pkcs8(Ed25519Key::generate_pem().unwrap().as_bytes()).unwrap();
    let public = ed.public_key();
    let signer = Signer::new(vec![secret_bytes(OLD_SECRET), secret_bytes(NEW_SECRET)], vec![ed]);
    let env = TestEnv::with(|t| t.signing = Some(Arc::new(signer))).await;
    (env, public)
}

async fn post(env: &TestEnv, gw: &TestGateway, event_id: i64, seq: u64) {
    let (body, _) = env.keeta_webhook(event_id, seq);
    assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn every_message_is_signed_by_every_key_and_readers_of_the_tenant_get_the_public_keys() {
    let (mut env, public) = signing_env().await;
    let tenant = env.tenant.clone();
    let reader = env.admin_token("reader", &[Read], Some(&[tenant.as_str()]));
    let elsewhere = env.admin_token("elsewhere", &[Read], Some(&["someone-else"]));
    let gw = env.start(Role::All).await;
    let mut sub = env.subscribe(&["keeta.#"]).await;
    post(&env, &gw, 1002, 1).await;
    let m = receive(&mut sub, 1, Duration::from_secs(10)).await.remove(0);

    assert_eq!(
        m.headers.get("webhook-id"),
        m.message_id.as_ref(),
        "webhook-id is the event id"
    );
    let ts: i64 = m.headers["webhook-timestamp"].parse().unwrap();
    assert!((now() - ts).abs() < 60, "signed now: {ts}");
    let entries: Vec<&str> = m.headers["webhook-signature"].split(' ').collect();
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert!(entries[0].starts_with("v1,") && entries[1].starts_with("v1,") && entries[2].starts_with("v1a,"));
    // Each key alone verifies it; a consumer holding a key it was not signed with does not.
    for keys in [
        Keys::none().hmac_secret(OLD_SECRET).unwrap(),
        Keys::none().hmac_secret(NEW_SECRET).unwrap(),
        Keys::none().public_key(&public).unwrap(),
    ] {
        assert_eq!(keys.verify(&m.headers, &m.body, now()), Ok(()), "{keys:?}");
    }
    let stranger = Keys::none()
        .hmac_secret("whsec_c3RyYW5nZXItc2VjcmV0LXh4eHh4eA==")
        .unwrap();
    assert!(stranger.verify(&m.headers, &m.body, now()).is_err());

    // The public keys, for readers of this tenant only; secrets never.
    let (status, keys) = gw
        .admin_get(&format!("/v1/signing-keys?tenant={tenant}"), Some(&reader))
        .await;
    assert_eq!(status, 200, "{keys}");
    assert_eq!(keys["signed"], true);
    let listed = keys["keys"].as_array().unwrap();
    assert_eq!(listed.len(), 3, "{keys}");
    assert_eq!(listed[0]["scheme"], "v1");
    assert_eq!(listed[0]["public_key"], serde_json::Value::Null);
    assert_eq!(listed[2]["scheme"], "v1a");
    assert_eq!(listed[2]["public_key"], public.as_str());
    assert!(
        !keys.to_string().contains(OLD_SECRET.trim_start_matches("whsec_")),
        "{keys}"
    );
    let (status, _) = gw
        .admin_get(&format!("/v1/signing-keys?tenant={tenant}"), Some(&elsewhere))
        .await;
    assert_eq!(status, 403, "a token limited to another tenant");
    let (status, _) = gw.admin_get(&format!("/v1/signing-keys?tenant={tenant}"), None).await;
    assert_eq!(status, 401);

    gw.stop().await;
}

#[tokio::test]
async fn a_replay_is_signed_and_the_consumer_sees_its_marker() {
    let (mut env, public) = signing_env().await;
    let tenant = env.tenant.clone();
    let operator = env.admin_token(
        "operator",
        &[Read, hookgate_config::AdminScope::Operate],
        Some(&[tenant.as_str()]),
    );
    let gw = env.start(Role::All).await;
    let mut sub = env.subscribe(&["keeta.#"]).await;
    post(&env, &gw, 1002, 1).await;
    let first = receive(&mut sub, 1, Duration::from_secs(10)).await.remove(0);
    let id = notification_id(&first);
    let (status, job) = gw
        .admin_post(&format!("/v1/notifications/{id}/replay"), Some(&operator), json!({}))
        .await;
    assert!(status == 200 || status == 202, "{status} {job}");
    let replayed = receive(&mut sub, 1, Duration::from_secs(10)).await.remove(0);
    let keys = Keys::none().public_key(&public).unwrap();
    assert_eq!(keys.verify(&replayed.headers, &replayed.body, now()), Ok(()));
    assert_eq!(
        replayed.headers.get("webhook-id"),
        first.headers.get("webhook-id"),
        "same event"
    );
    assert!(replayed.headers.contains_key(hookgate_consumer::REPLAY_HEADER));
    gw.stop().await;
}

fn notification_id(m: &Received) -> i64 {
    serde_json::from_slice::<serde_json::Value>(&m.body).unwrap()["notificationId"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// A handler that writes one row per message in the inbox transaction,
/// and can fail its first call or wait for a signal.
#[derive(Default)]
struct Orders {
    calls: Mutex<Vec<(String, bool, Option<String>)>>,
    fail_first: AtomicBool,
    hold_first: Option<(Arc<Notify>, Arc<Notify>)>,
}

impl Handler<Transaction<'static, Postgres>> for Orders {
    async fn handle(&self, m: &Message, tx: &mut Transaction<'static, Postgres>) -> Result<(), HandlerError> {
        let first = {
            let mut calls = self.calls.lock().unwrap();
            calls.push((m.event.id.clone(), m.redelivered, m.replay_job().map(str::to_owned)));
            calls.len() == 1
        };
        if first {
            if let Some((started, release)) = &self.hold_first {
                started.notify_one();
                release.notified().await;
            }
        }
        sqlx::query("INSERT INTO consumer_orders (event_id, subject) VALUES ($1, $2)")
            .bind(&m.event.id)
            .bind(&m.event.subject)
            .execute(&mut **tx)
            .await?;
        if self.fail_first.swap(false, Ordering::SeqCst) {
            return Err("the first attempt fails".into());
        }
        Ok(())
    }
}

impl Orders {
    fn calls(&self) -> Vec<(String, bool, Option<String>)> {
        self.calls.lock().unwrap().clone()
    }
}

/// The consumer's world: its database (the test's), a queue of its own
/// bound to the tenant exchange, dead letters to a queue of its own.
struct Side {
    pool: PgPool,
    inbox: PgInbox,
    config: Config,
    dead: hookgate_dispatcher::Subscription,
}

async fn side(env: &mut TestEnv, keys: Keys) -> Side {
    let pool = PgPool::connect(env.db_url()).await.unwrap();
    sqlx::query("CREATE TABLE IF NOT EXISTS consumer_orders (event_id text NOT NULL, subject text NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    let inbox = PgInbox::new(pool.clone());
    inbox.migrate().await.unwrap();
    let queue = unique("hookgate-test.consumer.");
    env.own_queue(&queue);
    let dlx = format!("{queue}.dlx");
    let mut config = Config::new(
        env.settings.service.rabbitmq.url.clone(),
        queue,
        env.exchange(),
        &["keeta.#"],
    )
    .verify_with(keys);
    config.retry_delay = Duration::from_millis(50);
    if let Some(d) = config.declare.as_mut() {
        d.dead_letter_exchange = Some(dlx.clone());
    }
    let dead = hookgate_dispatcher::Subscription::open(
        &env.settings.service.rabbitmq.url,
        &dlx,
        &env.settings.service.rabbitmq.unrouted_exchange,
        &["#".to_owned()],
    )
    .await
    .unwrap();
    Side {
        pool,
        inbox,
        config,
        dead,
    }
}

async fn rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM consumer_orders")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Runs a consumer until `done` holds of its counts (10 s at most), then stops it.
async fn run_until<I: Inbox, H: Handler<I::Tx>>(
    consumer: &Consumer,
    inbox: &I,
    handler: &H,
    done: impl Fn(hookgate_consumer::Counts) -> bool,
) {
    let shutdown = CancellationToken::new();
    let stats = consumer.stats();
    let stop = shutdown.clone();
    let watch = async move {
        for _ in 0..200 {
            if done(stats.snapshot()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stop.cancel();
    };
    let (result, ()) = tokio::join!(consumer.run(inbox, handler, shutdown), watch);
    result.unwrap();
}

/// An inbox whose first commit succeeds but reports a failure: as if the
/// consumer died between committing and acknowledging.
struct LostAck {
    inner: PgInbox,
    lost: AtomicUsize,
}

impl Inbox for LostAck {
    type Tx = Transaction<'static, Postgres>;

    async fn begin(&self) -> Result<Self::Tx, InboxError> {
        self.inner.begin().await
    }

    async fn record<'a>(&'a self, tx: &'a mut Self::Tx, message: &'a Message) -> Result<bool, InboxError> {
        self.inner.record(tx, message).await
    }

    async fn commit(&self, tx: Self::Tx) -> Result<(), InboxError> {
        self.inner.commit(tx).await?;
        if self.lost.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err("connection lost before the ack".into());
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_redelivered_or_republished_event_is_handled_once_and_a_replay_again() {
    let (mut env, public) = signing_env().await;
    let tenant = env.tenant.clone();
    let operator = env.admin_token(
        "operator",
        &[Read, hookgate_config::AdminScope::Operate],
        Some(&[tenant.as_str()]),
    );
    let side = side(&mut env, Keys::none().public_key(&public).unwrap()).await;
    let gw = env.start(Role::All).await;
    let mut tap = env.subscribe(&["keeta.#"]).await;
    let consumer = Consumer::new(side.config.clone());
    let inbox = LostAck {
        inner: side.inbox.clone(),
        lost: AtomicUsize::new(0),
    };
    let orders = Orders::default();
    // Declare the queue before the first publish.
    run_until(&consumer, &inbox, &orders, |_| true).await;
    post(&env, &gw, 1002, 1).await;
    let published = receive(&mut tap, 1, Duration::from_secs(10)).await.remove(0);
    // The first handling commits, its ack is lost, the broker redelivers.
    run_until(&consumer, &inbox, &orders, |c| c.duplicates >= 1).await;
    let counts = consumer.stats().snapshot();
    assert_eq!((counts.handled, counts.duplicates), (0, 1), "{counts:?}");
    assert_eq!(orders.calls().len(), 1, "the handler ran once: {:?}", orders.calls());
    assert_eq!(rows(&side.pool).await, 1);

    // The same message published again (a relay restart between publish
    // and mark): dropped too.
    let mut copy = env.message(&side.config.queue);
    copy.exchange = String::new();
    copy.body = published.body.clone();
    copy.headers = published.headers.clone();
    copy.message_id = published.message_id.clone().unwrap_or_default();
    for r in env.publisher().publish_all(&[copy]).await {
        r.unwrap();
    }
    run_until(&consumer, &inbox, &orders, |c| c.duplicates >= 2).await;
    assert_eq!(orders.calls().len(), 1);

    // An operator's replay is handled once more, marked.
    let id = notification_id(&published);
    let (status, job) = gw
        .admin_post(&format!("/v1/notifications/{id}/replay"), Some(&operator), json!({}))
        .await;
    assert!(status == 200 || status == 202, "{status} {job}");
    run_until(&consumer, &inbox, &orders, |c| c.handled >= 1).await;
    let calls = orders.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls[1].2.is_some(), "the handler sees the replay marker: {calls:?}");
    assert_eq!(rows(&side.pool).await, 2);
    drop(side.dead);
    gw.stop().await;
}

#[tokio::test]
async fn a_tampered_or_unsigned_message_is_refused_and_dead_lettered() {
    let (mut env, public) = signing_env().await;
    let mut side = side(&mut env, Keys::none().public_key(&public).unwrap()).await;
    let gw = env.start(Role::All).await;
    let mut tap = env.subscribe(&["keeta.#"]).await;
    let consumer = Consumer::new(side.config.clone());
    let orders = Orders::default();
    run_until(&consumer, &side.inbox, &orders, |_| true).await;
    post(&env, &gw, 1002, 1).await;
    let published = receive(&mut tap, 1, Duration::from_secs(10)).await.remove(0);
    run_until(&consumer, &side.inbox, &orders, |c| c.handled >= 1).await;

    // The body altered on the way (one id digit), and one without headers.
    let text = String::from_utf8(published.body.clone()).unwrap();
    let tampered = text.replacen("\"status\":30", "\"status\":50", 1);
    assert_ne!(tampered, text, "the test alters the body");
    let mut altered = env.message(&side.config.queue);
    altered.exchange = String::new();
    altered.body = tampered.into_bytes();
    altered.headers = published.headers.clone();
    let mut unsigned = altered.clone();
    unsigned.body = published.body.clone();
    unsigned.headers.clear();
    for r in env.publisher().publish_all(&[altered, unsigned]).await {
        r.unwrap();
    }
    run_until(&consumer, &side.inbox, &orders, |c| c.refused >= 2).await;
    let counts = consumer.stats().snapshot();
    assert_eq!((counts.handled, counts.refused), (1, 2), "{counts:?}");
    assert_eq!(orders.calls().len(), 1, "the handler never saw them");
    let dead = receive(&mut side.dead, 2, Duration::from_secs(10)).await;
    assert_eq!(dead.len(), 2, "both dead-lettered");
    gw.stop().await;
}

#[tokio::test]
async fn a_handler_error_undoes_its_work_and_requeues_the_message() {
    let (mut env, public) = signing_env().await;
    let side = side(&mut env, Keys::none().public_key(&public).unwrap()).await;
    let gw = env.start(Role::All).await;
    let consumer = Consumer::new(side.config.clone());
    let orders = Orders {
        fail_first: AtomicBool::new(true),
        ..Default::default()
    };
    run_until(&consumer, &side.inbox, &orders, |_| true).await;
    post(&env, &gw, 1002, 1).await;
    run_until(&consumer, &side.inbox, &orders, |c| c.handled >= 1).await;
    let counts = consumer.stats().snapshot();
    assert_eq!((counts.failed, counts.handled), (1, 1), "{counts:?}");
    let calls = orders.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0].0, calls[1].0, "the same event");
    assert!(!calls[0].1 && calls[1].1, "the second is a redelivery: {calls:?}");
    assert_eq!(rows(&side.pool).await, 1, "the failed attempt's row was rolled back");
    gw.stop().await;
}

#[tokio::test]
async fn a_shutdown_mid_message_finishes_it_and_loses_nothing() {
    let (mut env, public) = signing_env().await;
    let side = side(&mut env, Keys::none().public_key(&public).unwrap()).await;
    let gw = env.start(Role::All).await;
    let mut tap = env.subscribe(&["keeta.#"]).await;
    let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let orders = Orders {
        hold_first: Some((started.clone(), release.clone())),
        ..Default::default()
    };
    let consumer = Consumer::new(side.config.clone());
    run_until(&consumer, &side.inbox, &orders, |_| true).await;
    for seq in 1..=3 {
        post(&env, &gw, 1002, seq).await;
    }
    receive(&mut tap, 3, Duration::from_secs(10)).await;

    // Stop while the first message is in the handler (the other two are
    // prefetched), then let the handler finish.
    let shutdown = CancellationToken::new();
    let stopping = shutdown.clone();
    let stop = async {
        started.notified().await;
        stopping.cancel();
        tokio::time::sleep(Duration::from_millis(200)).await;
        release.notify_one();
    };
    let (result, ()) = tokio::join!(consumer.run(&side.inbox, &orders, shutdown), stop);
    result.unwrap();
    assert_eq!(
        consumer.stats().snapshot().handled,
        1,
        "the message in hand was finished"
    );
    assert_eq!(rows(&side.pool).await, 1);

    // A new consumer gets the two that were prefetched and not handled.
    let next = Consumer::new(side.config.clone());
    run_until(&next, &side.inbox, &orders, |c| c.handled >= 2).await;
    assert_eq!(next.stats().snapshot().duplicates, 0);
    assert_eq!(rows(&side.pool).await, 3, "every event once");
    gw.stop().await;
}

/// Closes the broker connection named `name` (`rabbitmqctl close_connection`),
/// as a broker restart or a network cut would.
fn close_connection(name: &str) -> bool {
    let out = std::process::Command::new("rabbitmqctl")
        .args(["list_connections", "-q", "pid", "client_properties"])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    let pids: Vec<&str> = listing
        .lines()
        .filter(|l| l.contains(&format!("\"{name}\"")))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for pid in &pids {
        let _ = std::process::Command::new("rabbitmqctl")
            .args(["close_connection", pid, "closed by the test"])
            .output();
    }
    !pids.is_empty()
}

#[tokio::test]
async fn a_lost_broker_connection_is_made_again_and_nothing_is_missed() {
    let (mut env, public) = signing_env().await;
    let mut side = side(&mut env, Keys::none().public_key(&public).unwrap()).await;
    side.config.tag = unique("hookgate-test-consumer-");
    let gw = env.start(Role::All).await;
    let consumer = Consumer::new(side.config.clone());
    let orders = Orders::default();
    // Declare the queue before the first publish.
    run_until(&consumer, &side.inbox, &orders, |_| true).await;
    let shutdown = CancellationToken::new();
    let stats = consumer.stats();
    let stop = shutdown.clone();
    let tag = side.config.tag.clone();
    let steps = async {
        // Connected and declared: the first event is handled.
        post(&env, &gw, 1002, 1).await;
        wait_for("the first event handled", || stats.snapshot().handled >= 1).await;
        // The connection is cut; events published meanwhile wait in the queue.
        let closed = tokio::task::spawn_blocking(move || close_connection(&tag))
            .await
            .unwrap();
        assert!(closed, "the consumer's connection was found and closed");
        post(&env, &gw, 1002, 2).await;
        post(&env, &gw, 1002, 3).await;
        wait_for("the events of the cut handled", || stats.snapshot().handled >= 3).await;
        stop.cancel();
    };
    let (result, ()) = tokio::join!(consumer.run(&side.inbox, &orders, shutdown), steps);
    result.unwrap();
    let counts = consumer.stats().snapshot();
    assert!(counts.reconnects >= 1, "{counts:?}");
    assert_eq!(counts.handled, 3, "{counts:?}");
    assert_eq!(rows(&side.pool).await, 3, "every event once");
    drop(side.dead);
    gw.stop().await;
}

/// Polls `done` for up to 30 s.
async fn wait_for(what: &str, done: impl Fn() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within 30 s: {what}");
}
