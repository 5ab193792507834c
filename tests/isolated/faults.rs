//! Fault tests: the guarantees of DESIGN.md §8 under real failures of the
//! real services, each bounded in time and each restoring what it stopped.
//!
//! The outage tests stop shared services (RabbitMQ, Redis, PostgreSQL) and
//! run only with `HOOKGATE_FAULT_TESTS=1` (`.ci/run` sets it). They live in
//! the `isolated` test binary (cargo runs test binaries one after another) and
//! run one at a time inside it (`SERIAL`). Each prints a `FAULT ...` line with its
//! numbers (run with `--nocapture` to see them; docs/guarantees.md has a run).

use hookgate_app::Role;
use hookgate_dispatcher::Subscription;
use hookgate_testkit::{http, unique, TestEnv};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The outage tests stop this machine's PostgreSQL, Redis and RabbitMQ: they
/// run only when asked (`HOOKGATE_FAULT_TESTS=1`, as `.ci/run` does), so
/// `cargo test --workspace` is safe on a developer's machine.
fn outages_allowed(test: &str) -> bool {
    let allowed = std::env::var("HOOKGATE_FAULT_TESTS").is_ok_and(|v| v == "1");
    if !allowed {
        eprintln!("{test}: skipped (stops local services; set HOOKGATE_FAULT_TESTS=1 to run it)");
    }
    allowed
}

// ---------- helpers ----------

/// Runs a shell command; panics with its output when it fails.
fn sh(cmd: &str) {
    let out = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn pg_version() -> String {
    std::fs::read_dir("/etc/postgresql")
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name()
        .to_string_lossy()
        .into_owned()
}

pub(super) fn tcp_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok()
}

/// Restores a stopped service when dropped, even if the test panicked.
struct Restore(&'static str);

impl Restore {
    fn start(which: &str) {
        match which {
            "rabbitmq" => {
                let _ = Command::new("rabbitmqctl").arg("start_app").output();
                let _ = Command::new("rabbitmqctl")
                    .args(["await_startup", "--timeout", "60"])
                    .output();
            }
            "redis" if !tcp_open(6379) => {
                let _ = Command::new("sh")
                        .arg("-c")
                        .arg("mkdir -p /var/lib/redis /var/log/redis; redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log")
                        .output();
            }
            "postgres" => {
                let _ = Command::new("pg_ctlcluster")
                    .args(["--skip-systemctl-redirect", &pg_version(), "main", "start"])
                    .output();
            }
            _ => {}
        }
        let port = match which {
            "rabbitmq" => 5672,
            "redis" => 6379,
            _ => 5432,
        };
        let deadline = Instant::now() + Duration::from_secs(90);
        while !tcp_open(port) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        Restore::start(self.0);
    }
}

/// Sends signed Keeta webhooks; returns the messageIds that got a 2xx.
async fn load(url: &str, bodies: Vec<(Vec<u8>, String)>, concurrency: usize) -> (HashSet<String>, BTreeMap<u16, u64>) {
    let client = http();
    let bodies = Arc::new(bodies);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, bodies, next, url) = (client.clone(), bodies.clone(), next.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut acked = HashSet::new();
            let mut statuses = BTreeMap::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((body, id)) = bodies.get(i) else { break };
                let status = match client
                    .post(&url)
                    .timeout(Duration::from_secs(5))
                    .body(body.clone())
                    .send()
                    .await
                {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                };
                *statuses.entry(status).or_insert(0u64) += 1;
                if (200..300).contains(&status) {
                    acked.insert(id.clone());
                }
            }
            (acked, statuses)
        }));
    }
    let mut acked = HashSet::new();
    let mut statuses = BTreeMap::new();
    for t in tasks {
        let (a, s) = t.await.unwrap();
        acked.extend(a);
        for (k, v) in s {
            *statuses.entry(k).or_insert(0) += v;
        }
    }
    (acked, statuses)
}

/// `n` distinct order events (one subject each); (body, messageId).
fn webhooks(env: &TestEnv, n: u64, base: u64) -> Vec<(Vec<u8>, String)> {
    (0..n).map(|i| env.keeta_webhook(1002, base + i)).collect()
}

/// Drains a durable queue until it stays quiet; returns messageId → deliveries.
async fn drain_queue(url: &str, queue: &str, expect: usize, within: Duration) -> HashMap<String, usize> {
    let mut sub = Subscription::existing(url, queue).await.unwrap();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut total = 0;
    let deadline = Instant::now() + within;
    loop {
        let quiet = if total >= expect {
            Duration::from_millis(1500)
        } else {
            Duration::from_secs(5)
        };
        match tokio::time::timeout(quiet, sub.next()).await {
            Ok(Some(Ok(m))) => {
                let e: Value = serde_json::from_slice(&m.body).unwrap();
                let id = e["raw"]["messageId"].as_str().unwrap_or_default().to_owned();
                *seen.entry(id).or_default() += 1;
                total += 1;
            }
            _ if total >= expect || Instant::now() > deadline => break,
            _ => {}
        }
    }
    seen
}

async fn wait_drained(env: &TestEnv, within: Duration) -> Duration {
    let store = env.store().await;
    let started = Instant::now();
    loop {
        match store.outbox_stats().await {
            Ok(s) if s.pending == 0 => return started.elapsed(),
            _ if started.elapsed() > within => panic!("outbox not drained within {within:?}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Lost = acked but never delivered; duplicates = deliveries beyond the first.
fn verdict(
    name: &str,
    sent: usize,
    acked: &HashSet<String>,
    seen: &HashMap<String, usize>,
    drain: Duration,
) -> (usize, usize) {
    let lost: Vec<_> = acked.iter().filter(|id| !seen.contains_key(*id)).collect();
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    println!(
        "FAULT {name}: sent={sent} acked={} delivered={} lost={} duplicates={duplicates} drain={:.1}s",
        acked.len(),
        seen.len(),
        lost.len(),
        drain.as_secs_f64()
    );
    assert!(
        lost.is_empty(),
        "{name}: {} acked webhooks never arrived, e.g. {:?}",
        lost.len(),
        lost.iter().take(3).collect::<Vec<_>>()
    );
    (lost.len(), duplicates)
}

struct ChildGateway {
    child: Child,
    base_url: String,
    admin_url: String,
    /// Where the child's stdout and stderr go (appended: a restart adds to it),
    /// printed when it does not get ready.
    log: std::path::PathBuf,
}

impl ChildGateway {
    fn spawn(env: &TestEnv, dir: &std::path::Path, port: u16) -> ChildGateway {
        Self::spawn_with(env, dir, port, &[], &[])
    }

    /// [`ChildGateway::spawn`] with `serve` arguments and environment
    /// variables (`HOOKGATE__SECTION__KEY` overrides).
    fn spawn_with(
        env: &TestEnv,
        dir: &std::path::Path,
        port: u16,
        args: &[&str],
        vars: &[(&str, String)],
    ) -> ChildGateway {
        let exe = std::env::current_exe().unwrap();
        let bin = exe.parent().and_then(|d| d.parent()).unwrap().join("hookgate");
        assert!(
            bin.exists(),
            "{} not built: run `cargo test --workspace` (it builds the binary)",
            bin.display()
        );
        let log = dir.join("gateway.log");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        use std::io::Write;
        writeln!(file, "--- hookgate serve on port {port} ---").unwrap();
        let child = Command::new(bin)
            .args(["--config", dir.to_str().unwrap(), "serve"])
            .args(args)
            .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
            .env("HOOKGATE_TEST_KEETA_SECRET", &env.keeta_secret)
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap();
        ChildGateway {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            admin_url: format!("http://127.0.0.1:{}", hookgate_testkit::admin_port(dir)),
            log,
        }
    }

    /// The last lines of the child's log.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    /// Waits until `/readyz` answers 200: every dependency of the role
    /// (PostgreSQL, RabbitMQ, Redis, the relay) is up and the migrations
    /// ran. A loaded 2-core machine can take a while: up to 90 s; a child
    /// that exits, or one not ready by then, fails with what `/readyz` said
    /// last and the child's own log.
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "gateway exited ({status}) before it was ready; its log:\n{}",
                    self.log_tail()
                );
            }
            let last = match http().get(format!("{}/readyz", self.admin_url)).send().await {
                Ok(r) if r.status().is_success() => return,
                Ok(r) => format!("{}: {}", r.status(), r.text().await.unwrap_or_default()),
                Err(e) => format!("no answer ({e})"),
            };
            assert!(
                Instant::now() < deadline,
                "gateway not ready within 90 s; /readyz said {last}; its log:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for ChildGateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(super) fn delete_queue(env: &TestEnv, queue: &str) {
    let url = env.settings.service.rabbitmq.url.clone();
    let queue = queue.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(hookgate_dispatcher::amqp::delete_topology(&url, &[], &[queue]))
            .ok();
    })
    .join()
    .ok();
}

/// A test tenant whose events also land in the durable quorum queue `queue`
/// (it survives broker restarts, so nothing is missed while consumers are away).
pub(super) async fn env_with_queue(queue: &str) -> TestEnv {
    let q = queue.to_owned();
    TestEnv::with(move |t| {
        t.subscriptions = vec![hookgate_config::Subscription {
            queue: q,
            bindings: vec!["#".into()],
            queue_type: hookgate_config::QueueType::Quorum,
            dead_letter_exchange: hookgate_config::DEFAULT_DLX.into(),
        }];
    })
    .await
}

// ---------- 1. SIGKILL under load ----------

#[tokio::test]
async fn sigkill_under_load_loses_no_acked_webhook() {
    let _serial = super::SERIAL.lock().await;
    let env = TestEnv::new().await;
    let queue = unique("hookgate-test.fault-kill.");
    let port = free_port();
    let dir = env.write_config_dir(port, &queue);
    let mut gw = ChildGateway::spawn(&env, &dir, port);
    gw.wait_ready().await;
    let url = format!("{}/hooks/{}/keeta", gw.base_url, env.tenant);
    let bodies = webhooks(&env, 3000, 0);
    let started = Instant::now();

    // Kill -9 while the load runs.
    let load_task = tokio::spawn(load_owned(url.clone(), bodies.clone(), 32));
    tokio::time::sleep(Duration::from_millis(700)).await;
    drop(gw); // SIGKILL
    let (acked_first, statuses) = load_task.await.unwrap();

    // Restart; the provider retries what it did not get a 2xx for.
    let mut gw = ChildGateway::spawn(&env, &dir, port);
    gw.wait_ready().await;
    let retry: Vec<_> = bodies
        .iter()
        .filter(|(_, id)| !acked_first.contains(id))
        .cloned()
        .collect();
    let (acked_retry, _) = load(&url, retry, 32).await;
    let drain = wait_drained(&env, Duration::from_secs(120)).await;
    let acked: HashSet<String> = acked_first.iter().chain(&acked_retry).cloned().collect();
    assert_eq!(
        acked.len(),
        bodies.len(),
        "every webhook is acked once the gateway is back"
    );
    let seen = drain_queue(
        &env.settings.service.rabbitmq.url,
        &queue,
        bodies.len(),
        Duration::from_secs(60),
    )
    .await;
    println!(
        "FAULT sigkill: first pass statuses {statuses:?}, acked before kill {}",
        acked_first.len()
    );
    verdict("sigkill", bodies.len(), &acked, &seen, started.elapsed().max(drain));
    assert!(
        !acked_first.is_empty() && acked_first.len() < bodies.len(),
        "the kill must land mid-load"
    );
    drop(gw);
    delete_queue(&env, &queue);
    std::fs::remove_dir_all(dir).ok();
}

async fn load_owned(url: String, bodies: Vec<(Vec<u8>, String)>, c: usize) -> (HashSet<String>, BTreeMap<u16, u64>) {
    load(&url, bodies, c).await
}

// ---------- 2. RabbitMQ down during load ----------

#[tokio::test]
async fn rabbitmq_outage_keeps_acking_and_drains_after() {
    if !outages_allowed("rabbitmq_outage_keeps_acking_and_drains_after") {
        return;
    }
    let _serial = super::SERIAL.lock().await;
    let queue = unique("hookgate-test.fault-amqp.");
    let env = env_with_queue(&queue).await;
    let gw = env.start(Role::All).await;
    let url = gw.hook_url(&env.tenant, "keeta");
    let before = webhooks(&env, 300, 0);
    let during = webhooks(&env, 600, 10_000);
    let (acked_before, _) = load(&url, before.clone(), 16).await;

    let restore = Restore("rabbitmq");
    sh("rabbitmqctl stop_app");
    let (acked_during, statuses) = load(&url, during.clone(), 16).await;
    assert_eq!(
        acked_during.len(),
        during.len(),
        "ingress keeps answering 2xx while RabbitMQ is down: {statuses:?}"
    );
    let pending = gw.store.outbox_stats().await.unwrap().pending;
    assert!(pending > 0, "a backlog builds up while the broker is down");
    let outage_started = Instant::now();
    drop(restore); // start_app and wait for the port
    let drain = wait_drained(&env, Duration::from_secs(120)).await;
    println!(
        "FAULT rabbitmq: backlog at recovery {pending}, broker back after {:.1}s",
        outage_started.elapsed().as_secs_f64()
    );
    let acked: HashSet<String> = acked_before.into_iter().chain(acked_during).collect();
    let seen = drain_queue(
        &env.settings.service.rabbitmq.url,
        &queue,
        acked.len(),
        Duration::from_secs(60),
    )
    .await;
    verdict("rabbitmq", before.len() + during.len(), &acked, &seen, drain);
    gw.stop().await;
    delete_queue(&env, &queue);
}

// ---------- 3. Redis down during load ----------

#[tokio::test]
async fn redis_outage_keeps_publishing_without_loss() {
    if !outages_allowed("redis_outage_keeps_publishing_without_loss") {
        return;
    }
    let _serial = super::SERIAL.lock().await;
    let queue = unique("hookgate-test.fault-redis.");
    let env = env_with_queue(&queue).await;
    let gw = env.start(Role::All).await;
    let url = gw.hook_url(&env.tenant, "keeta");
    let bodies = webhooks(&env, 1500, 0);
    let started = Instant::now();
    let load_task = tokio::spawn(load_owned(url.clone(), bodies.clone(), 16));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let restore = Restore("redis");
    sh("redis-cli -h 127.0.0.1 -p 6379 shutdown nosave || true");
    // Publishing continues while Redis is down.
    let published_at_stop = gw.metrics.published_count(&env.tenant, "keeta.order.accepted");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let published_during = gw.metrics.published_count(&env.tenant, "keeta.order.accepted") - published_at_stop;
    drop(restore);
    let (acked, _) = load_task.await.unwrap();
    let drain = wait_drained(&env, Duration::from_secs(120)).await;
    let seen = drain_queue(
        &env.settings.service.rabbitmq.url,
        &queue,
        acked.len(),
        Duration::from_secs(60),
    )
    .await;
    println!(
        "FAULT redis: events published during the 2 s outage {published_during}, fallbacks {}",
        gw.metrics.dedupe_fallback_count()
    );
    assert!(published_during > 0, "events must be published while Redis is down");
    assert!(gw.metrics.dedupe_fallback_count() > 0);
    verdict("redis", bodies.len(), &acked, &seen, started.elapsed().max(drain));
    gw.stop().await;
    delete_queue(&env, &queue);
}

// ---------- 4. PostgreSQL down ----------

#[tokio::test]
async fn postgres_outage_answers_503_and_recovers_by_itself() {
    if !outages_allowed("postgres_outage_answers_503_and_recovers_by_itself") {
        return;
    }
    let _serial = super::SERIAL.lock().await;
    let mut env = TestEnv::new().await;
    env.settings.service.database.acquire_timeout_ms = 500;
    let mut sub = env.subscribe(&["#"]).await;
    let gw = env.start(Role::All).await;
    let url = gw.hook_url(&env.tenant, "keeta");

    let restore = Restore("postgres");
    sh(&format!(
        "pg_ctlcluster --skip-systemctl-redirect {} main stop -m fast",
        pg_version()
    ));
    let during = webhooks(&env, 40, 0);
    let (acked_during, statuses) = load(&url, during, 8).await;
    assert!(acked_during.is_empty(), "no 2xx while PostgreSQL is down: {statuses:?}");
    assert_eq!(statuses.get(&503).copied().unwrap_or(0), 40, "{statuses:?}");
    let down_at = Instant::now();
    drop(restore);

    // It recovers by itself: the same gateway accepts and publishes again.
    let (body, message_id) = env.keeta_webhook(1004, 99);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = http().post(&url).body(body.clone()).send().await;
        if r.as_ref().is_ok_and(|r| r.status().as_u16() == 200) {
            break;
        }
        assert!(Instant::now() < deadline, "gateway did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let recovered = down_at.elapsed();
    let got = hookgate_testkit::receive(&mut sub, 1, Duration::from_secs(30)).await;
    let e: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(e["raw"]["messageId"], message_id.as_str());
    println!(
        "FAULT postgres: sent=40 acked=0 (503×{}) recovered_after={:.1}s",
        statuses.get(&503).unwrap_or(&0),
        recovered.as_secs_f64()
    );
    gw.stop().await;
}

// ---------- 5. Two dispatchers racing on one backlog ----------

#[tokio::test]
async fn two_dispatchers_publish_everything_in_subject_order() {
    let _serial = super::SERIAL.lock().await;
    let env = TestEnv::new().await;
    let mut sub = env.subscribe(&["#"]).await;
    let gw = env.start(Role::Ingress).await;
    let url = gw.hook_url(&env.tenant, "keeta");
    // 20 orders × 15 delivery updates each, committed interleaved, in order per order.
    let (orders, updates) = (20u64, 15u64);
    let client = http();
    for u in 0..updates {
        for o in 0..orders {
            let message = serde_json::json!({"orderViewId": 700_000_000 + o, "shopId": 145_541, "logisticsStatus": 10 + u,
                                             "opTime": 1_795_000_000_000u64 + u, "courierName": "x"});
            let envelope = hookgate_testkit::keeta::envelope(
                hookgate_testkit::KEETA_APP_ID,
                1006,
                &unique("m"),
                145_541,
                &message,
                1_795_000_000,
            );
            let body = hookgate_testkit::keeta::signed_body(envelope, &env.callback_url, &env.keeta_secret);
            assert_eq!(
                client.post(&url).body(body).send().await.unwrap().status().as_u16(),
                200
            );
        }
    }
    let total = (orders * updates) as usize;
    // Two dispatchers with small batches race on the backlog.
    let shutdown = tokio_util::sync::CancellationToken::new();
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let mut settings = env.settings.service.dispatcher.clone();
        settings.batch_size = 7;
        let (d, _) = env.dispatcher(settings).await;
        let stop = shutdown.clone();
        tasks.push(tokio::spawn(async move { d.run(stop).await }));
    }
    let started = Instant::now();
    let messages = hookgate_testkit::receive(&mut sub, total, Duration::from_secs(120)).await;
    let drain = started.elapsed();
    shutdown.cancel();
    for t in tasks {
        t.await.unwrap();
    }
    let mut last: HashMap<String, i64> = HashMap::new();
    let mut ids = HashSet::new();
    for m in &messages {
        let e: Value = serde_json::from_slice(&m.body).unwrap();
        ids.insert(e["id"].as_str().unwrap().to_owned());
        let subject = e["subject"].as_str().unwrap().to_owned();
        let status = e["delivery"]["logisticsStatus"].as_i64().unwrap();
        if let Some(prev) = last.insert(subject.clone(), status) {
            assert!(status > prev, "{subject}: status {status} arrived after {prev}");
        }
    }
    hookgate_testkit::assert_no_more(&mut sub, Duration::from_secs(1)).await;
    println!(
        "FAULT two-dispatchers: sent={total} delivered={} duplicates={} subjects={} order violations=0 drain={:.1}s",
        ids.len(),
        messages.len() - ids.len(),
        last.len(),
        drain.as_secs_f64()
    );
    assert_eq!(ids.len(), total);
    gw.stop().await;
}

// ---------- 6. The spool: PostgreSQL away ----------

/// Sends `bodies` at `per_sec` a second (a provider's steady push), each
/// retried like Keeta (up to 3 more times, a second apart here) until it
/// gets a 2xx; returns the acked messageIds and every status seen.
async fn paced(url: &str, bodies: Vec<(Vec<u8>, String)>, per_sec: u64) -> (HashSet<String>, BTreeMap<u16, u64>) {
    let client = http();
    let mut tasks = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / per_sec.max(1)));
    for (body, id) in bodies {
        tick.tick().await;
        let (client, url) = (client.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..4 {
                let status = match client
                    .post(&url)
                    .timeout(Duration::from_secs(5))
                    .body(body.clone())
                    .send()
                    .await
                {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                };
                statuses.push(status);
                if (200..300).contains(&status) {
                    return (Some(id), statuses);
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            (None, statuses)
        }));
    }
    let mut acked = HashSet::new();
    let mut statuses = BTreeMap::new();
    for t in tasks {
        let (id, seen) = t.await.unwrap();
        acked.extend(id);
        for s in seen {
            *statuses.entry(s).or_insert(0) += 1;
        }
    }
    (acked, statuses)
}

#[tokio::test]
async fn postgres_down_two_minutes_under_keeta_load_loses_nothing_with_a_spool() {
    if !outages_allowed("postgres_down_two_minutes_under_keeta_load_loses_nothing_with_a_spool") {
        return;
    }
    let _serial = super::SERIAL.lock().await;
    let queue = unique("hookgate-test.fault-spool.");
    let mut env = env_with_queue(&queue).await;
    let spool_dir = std::env::temp_dir().join(unique("hookgate-spool-fault-"));
    env.settings.service.spool.dir = spool_dir.to_string_lossy().into_owned();
    env.settings.service.database.acquire_timeout_ms = 500;
    let gw = env.start(Role::All).await;
    let url = gw.hook_url(&env.tenant, "keeta");
    let outage = Duration::from_secs(
        std::env::var("HOOKGATE_SPOOL_OUTAGE_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(120),
    );
    let per_sec = 5;
    let bodies = webhooks(&env, outage.as_secs() * per_sec, 0);

    let restore = Restore("postgres");
    sh(&format!(
        "pg_ctlcluster --skip-systemctl-redirect {} main stop -m fast",
        pg_version()
    ));
    let stopped = Instant::now();
    let (acked, statuses) = paced(&url, bodies.clone(), per_sec).await;
    let spooled = gw.metrics.spooled_count(&env.tenant, "keeta");
    println!(
        "FAULT spool: PostgreSQL down {:.0}s, {} webhooks at {per_sec}/s: statuses {statuses:?}, spooled {spooled}",
        stopped.elapsed().as_secs_f64(),
        bodies.len()
    );
    assert_eq!(
        acked.len(),
        bodies.len(),
        "every request answered success: {statuses:?}"
    );
    assert_eq!(statuses.keys().copied().collect::<Vec<_>>(), vec![200], "{statuses:?}");
    drop(restore);
    let back = Instant::now();
    let drain = wait_drained(&env, Duration::from_secs(180)).await;
    let seen = drain_queue(
        &env.settings.service.rabbitmq.url,
        &queue,
        acked.len(),
        Duration::from_secs(120),
    )
    .await;
    println!(
        "FAULT spool: drained and published {:.1}s after PostgreSQL came back",
        back.elapsed().as_secs_f64()
    );
    let (_, duplicates) = verdict("spool", bodies.len(), &acked, &seen, drain);
    assert_eq!(duplicates, 0, "none published twice");
    let store = env.store().await;
    assert_eq!(
        store.count_notifications(&env.tenant_id()).await.unwrap(),
        bodies.len() as i64,
        "stored once each"
    );
    gw.stop().await;
    delete_queue(&env, &queue);
    std::fs::remove_dir_all(spool_dir).ok();
}

/// SIGKILL of an ingress while it spools (PostgreSQL away from it: a proxy
/// the test cuts), then a restart while it is still away: every request it
/// had answered 2xx is drained and published once PostgreSQL is back.
#[tokio::test]
async fn sigkill_while_spooling_loses_no_acked_webhook() {
    let _serial = super::SERIAL.lock().await;
    let queue = unique("hookgate-test.fault-spool-kill.");
    let env = env_with_queue(&queue).await;
    let proxy = hookgate_testkit::proxy::TcpProxy::start(([127, 0, 0, 1], 5432).into()).await;
    let port = free_port();
    let dir = env.write_config_dir(port, &queue);
    let spool_dir = dir.join("spool");
    let vars = [
        (
            "HOOKGATE__DATABASE__URL",
            proxy.url_through(&env.settings.service.database.url),
        ),
        ("HOOKGATE__DATABASE__ACQUIRE_TIMEOUT_MS", "500".to_owned()),
        ("HOOKGATE__SPOOL__DIR", spool_dir.to_string_lossy().into_owned()),
    ];
    let ingress = ["--role", "ingress"];
    let mut gw = ChildGateway::spawn_with(&env, &dir, port, &ingress, &vars);
    gw.wait_ready().await;
    let url = format!("{}/hooks/{}/keeta", gw.base_url, env.tenant);
    proxy.set_up(false);
    let bodies = webhooks(&env, 8000, 0);
    let load_task = tokio::spawn(load_owned(url.clone(), bodies.clone(), 16));
    tokio::time::sleep(Duration::from_millis(800)).await;
    drop(gw); // SIGKILL
    let (acked_first, statuses) = load_task.await.unwrap();
    println!(
        "FAULT spool-sigkill: statuses before the kill {statuses:?}, acked {}",
        acked_first.len()
    );
    assert!(
        !acked_first.is_empty() && acked_first.len() < bodies.len(),
        "the kill must land while spooling"
    );

    // Restarted while PostgreSQL is still away; the provider retries the rest.
    let mut gw = ChildGateway::spawn_with(&env, &dir, port, &ingress, &vars);
    gw.wait_ready().await;
    let retry: Vec<_> = bodies
        .iter()
        .filter(|(_, id)| !acked_first.contains(id))
        .cloned()
        .collect();
    let (acked_retry, _) = load(&url, retry, 16).await;
    let acked: HashSet<String> = acked_first.iter().chain(&acked_retry).cloned().collect();
    assert_eq!(
        acked.len(),
        bodies.len(),
        "every webhook acked while PostgreSQL is away"
    );

    // Back: the spool drains; a dispatcher publishes.
    proxy.set_up(true);
    let dispatcher = env.start(Role::Dispatcher).await;
    let store = env.store().await;
    let deadline = Instant::now() + Duration::from_secs(120);
    while store.count_notifications(&env.tenant_id()).await.unwrap() < bodies.len() as i64 {
        assert!(
            Instant::now() < deadline,
            "the spool did not drain; its log:\n{}",
            gw.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let drain = wait_drained(&env, Duration::from_secs(120)).await;
    let seen = drain_queue(
        &env.settings.service.rabbitmq.url,
        &queue,
        bodies.len(),
        Duration::from_secs(60),
    )
    .await;
    verdict("spool-sigkill", bodies.len(), &acked, &seen, drain);
    dispatcher.stop().await;
    drop(gw);
    delete_queue(&env, &queue);
    std::fs::remove_dir_all(dir).ok();
}
