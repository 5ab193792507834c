//! Failover on real clusters, on this one machine: each test starts its own
//! cluster (own ports, own data directories under the system's temporary
//! directory), runs a steady Keeta-like load through hookgate, kills a node
//! with SIGKILL during it, and reports for it
//!
//! - acked webhooks lost (must be 0),
//! - events published more than once (counted, and explained in
//!   docs/guarantees.md),
//! - the longest time without a publish while the load ran,
//! - the window of non-2xx answers (first to last).
//!
//! They never touch the machine's shared services, and run only with
//! `HOOKGATE_FAILOVER_TESTS=1` (`.ci/run` sets it): they start clusters.
//! Each prints a `FAILOVER ...` line (docs/guarantees.md has a run).

use super::faults::{delete_queue, env_with_queue, free_port, tcp_open};
use hookgate_app::Role;
use hookgate_dispatcher::Subscription;
use hookgate_testkit::{http, unique, TestEnv};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn failover_allowed(test: &str) -> bool {
    let allowed = std::env::var("HOOKGATE_FAILOVER_TESTS").is_ok_and(|v| v == "1");
    if !allowed {
        eprintln!("{test}: skipped (starts clusters; set HOOKGATE_FAILOVER_TESTS=1 to run it)");
    }
    allowed
}

/// A process of a test cluster: killed (SIGKILL) when dropped; its output
/// goes to `<dir>/<name>.log`.
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn spawn(dir: &Path, name: &str, program: &str, args: &[&str], vars: &[(&str, String)]) -> Proc {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new(program)
            .args(args)
            .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        Proc {
            name: name.to_owned(),
            child,
            log,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, now.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!(
            "--- {} ---\n{}",
            self.name,
            lines[lines.len().saturating_sub(40)..].join("\n")
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn wait_port(port: u16, within: Duration, procs: &[&Proc]) {
    let deadline = Instant::now() + within;
    while !tcp_open(port) {
        assert!(
            Instant::now() < deadline,
            "port {port} not open within {within:?}\n{}",
            procs.iter().map(|p| p.log_tail()).collect::<Vec<_>>().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique(&format!("hookgate-failover-{name}-")));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What one load saw: per request (when, status, messageId); per published
/// message (when, messageId, idempotency key).
#[derive(Default)]
struct Record {
    answers: Vec<(Instant, u16, String)>,
    published: Vec<(Instant, String, String)>,
}

/// Sends `bodies` at `per_sec` a second, each retried (up to 5 times, half
/// a second apart, like a provider that retries) until it gets a 2xx;
/// `during` runs once the first third is sent (the failure).
async fn steady_load(
    url: &str,
    bodies: Vec<(Vec<u8>, String)>,
    per_sec: u64,
    record: Arc<Mutex<Record>>,
    during: impl std::future::Future<Output = ()>,
) {
    steady_load_retrying(url, bodies, per_sec, 6, record, during).await
}

/// [`steady_load`] with `attempts` per request (half a second apart).
async fn steady_load_retrying(
    url: &str,
    bodies: Vec<(Vec<u8>, String)>,
    per_sec: u64,
    attempts: usize,
    record: Arc<Mutex<Record>>,
    during: impl std::future::Future<Output = ()>,
) {
    let client = http();
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / per_sec.max(1)));
    let third = bodies.len() / 3;
    let mut tasks = Vec::new();
    let mut during = Some(Box::pin(during));
    for (i, (body, id)) in bodies.into_iter().enumerate() {
        tick.tick().await;
        if i == third {
            if let Some(f) = during.take() {
                f.await;
            }
        }
        let (client, url, record) = (client.clone(), url.to_owned(), record.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..attempts {
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
                record
                    .lock()
                    .unwrap()
                    .answers
                    .push((Instant::now(), status, id.clone()));
                if (200..300).contains(&status) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Consumes `queue` into `record` until aborted; subscribes again when the
/// broker cancels the consumer (a quorum queue's leader moved).
fn consume(url: String, queue: String, record: Arc<Mutex<Record>>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Ok(mut sub) = Subscription::existing(&url, &queue).await else {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            };
            while let Some(Ok(m)) = sub.next().await {
                let e: Value = serde_json::from_slice(&m.body).unwrap_or_default();
                let id = e["raw"]["messageId"].as_str().unwrap_or_default().to_owned();
                let key = e["idempotencyKey"].as_str().unwrap_or_default().to_owned();
                record.lock().unwrap().published.push((Instant::now(), id, key));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

/// Waits until `expect` business events are published and nothing more
/// arrives for a while (or `within` passed).
async fn settle(record: &Arc<Mutex<Record>>, expect: usize, within: Duration) {
    let deadline = Instant::now() + within;
    let mut last = 0;
    let mut quiet_since = Instant::now();
    loop {
        let (keys, total) = {
            let r = record.lock().unwrap();
            let keys: HashSet<&str> = r.published.iter().map(|p| p.2.as_str()).collect();
            (keys.len(), r.published.len())
        };
        if total != last {
            last = total;
            quiet_since = Instant::now();
        }
        if keys >= expect && quiet_since.elapsed() > Duration::from_secs(3) {
            return;
        }
        if Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The figures of one run; asserts that nothing acked was lost. `groups`
/// maps each request's messageId to its business event (two deliveries of
/// one event share it: the second is folded by dedupe).
fn report(name: &str, record: &Record, started: Instant, load_ended: Instant, groups: &HashMap<String, String>) {
    let acked: HashSet<&str> = record
        .answers
        .iter()
        .filter(|a| (200..300).contains(&a.1))
        .map(|a| a.2.as_str())
        .collect();
    let published_keys: HashMap<&str, usize> = record.published.iter().fold(HashMap::new(), |mut m, p| {
        *m.entry(groups.get(&p.1).map_or(p.1.as_str(), String::as_str))
            .or_default() += 1;
        m
    });
    let lost: Vec<&str> = acked
        .iter()
        .filter(|id| {
            groups
                .get(**id)
                .is_none_or(|g| !published_keys.contains_key(g.as_str()))
        })
        .copied()
        .collect();
    let twice: usize = published_keys.values().map(|n| n.saturating_sub(1)).sum();
    let mut times: Vec<Instant> = record
        .published
        .iter()
        .map(|p| p.0)
        .filter(|t| *t >= started && *t <= load_ended)
        .collect();
    times.sort();
    let mut gap = times.first().map_or(Duration::ZERO, |t| t.duration_since(started));
    for w in times.windows(2) {
        gap = gap.max(w[1].duration_since(w[0]));
    }
    let failures: Vec<Instant> = record
        .answers
        .iter()
        .filter(|a| !(200..300).contains(&a.1))
        .map(|a| a.0)
        .collect();
    let window = match (failures.iter().min(), failures.iter().max()) {
        (Some(a), Some(b)) => b.duration_since(*a),
        _ => Duration::ZERO,
    };
    let statuses: BTreeMap<u16, usize> = record.answers.iter().fold(BTreeMap::new(), |mut m, a| {
        *m.entry(a.1).or_default() += 1;
        m
    });
    println!(
        "FAILOVER {name}: requests={} acked={} lost={} published={} published_more_than_once={twice} \
         longest_without_publishing={:.1}s non_2xx={} non_2xx_window={:.1}s statuses={statuses:?}",
        groups.len(),
        acked.len(),
        lost.len(),
        record.published.len(),
        gap.as_secs_f64(),
        failures.len(),
        window.as_secs_f64(),
    );
    assert!(
        lost.is_empty(),
        "{name}: {} acked webhooks never published, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(3)]
    );
}

/// Signed bodies and their messageIds.
type Bodies = Vec<(Vec<u8>, String)>;

/// `n` order webhooks (one business event each: order `base + i`
/// accepted), and each one's messageId → business event.
fn orders(env: &TestEnv, n: u64, base: u64) -> (Bodies, HashMap<String, String>) {
    let bodies: Vec<(Vec<u8>, String)> = (0..n).map(|i| env.keeta_webhook(1002, base + i)).collect();
    let groups = bodies
        .iter()
        .zip(0..n)
        .map(|((_, id), i)| (id.clone(), format!("order-{}", base + i)))
        .collect();
    (bodies, groups)
}

// ---------- Redis: a master and a replica under Sentinel; the master is killed ----------

#[tokio::test]
async fn redis_sentinel_failover_keeps_publishing_and_deduping() {
    if !failover_allowed("redis_sentinel_failover_keeps_publishing_and_deduping") {
        return;
    }
    let _serial = super::SERIAL.lock().await;
    let dir = scratch("redis");
    let (master_port, replica_port) = (free_port(), free_port());
    let sentinel_ports = [free_port(), free_port(), free_port()];
    let redis = |name: &str, port: u16, extra: &[&str]| {
        let data = dir.join(name);
        std::fs::create_dir_all(&data).unwrap();
        let port = port.to_string();
        let mut args = vec![
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
        ];
        let data = data.to_string_lossy().into_owned();
        args.push(&data);
        args.extend_from_slice(extra);
        Proc::spawn(&dir, name, "redis-server", &args, &[])
    };
    let mut master = redis("master", master_port, &[]);
    let master_addr = format!("{master_port}");
    let replica = redis("replica", replica_port, &["--replicaof", "127.0.0.1", &master_addr]);
    wait_port(master_port, Duration::from_secs(20), &[&master]).await;
    wait_port(replica_port, Duration::from_secs(20), &[&replica]).await;
    let mut sentinels = Vec::new();
    for (i, port) in sentinel_ports.iter().enumerate() {
        let conf = dir.join(format!("sentinel{i}.conf"));
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {}\nsentinel monitor hgm 127.0.0.1 {master_port} 2\n\
                 sentinel down-after-milliseconds hgm 1000\nsentinel failover-timeout hgm 5000\n\
                 sentinel parallel-syncs hgm 1\n",
                dir.display()
            ),
        )
        .unwrap();
        let conf = conf.to_string_lossy().into_owned();
        sentinels.push(Proc::spawn(
            &dir,
            &format!("sentinel{i}"),
            "redis-server",
            &[&conf, "--sentinel"],
            &[],
        ));
    }
    for (p, port) in sentinels.iter().zip(sentinel_ports) {
        wait_port(port, Duration::from_secs(20), &[p]).await;
    }
    // The replica has synced and the sentinels know it.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let queue = unique("hookgate-test.failover-redis.");
    let mut env = env_with_queue(&queue).await;
    let r = &mut env.settings.service.redis;
    r.url = sentinel_ports
        .iter()
        .map(|p| format!("redis://127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    r.sentinel_master = "hgm".into();
    let record = Arc::new(Mutex::new(Record::default()));
    let gw = env.start(Role::All).await;
    let consumer = consume(env.settings.service.rabbitmq.url.clone(), queue.clone(), record.clone());
    // Each business event twice (two deliveries of it): dedupe folds the second.
    let (mut bodies, mut groups) = orders(&env, 150, 0);
    let (again, again_groups) = orders(&env, 150, 0);
    // Interleaved: each second delivery a little after its first.
    let firsts = std::mem::take(&mut bodies);
    for (a, b) in firsts.into_iter().zip(again) {
        bodies.push(a);
        bodies.push(b);
    }
    groups.extend(again_groups);
    let url = gw.hook_url(&env.tenant, "keeta");
    let started = Instant::now();
    let master_pid = master.pid();
    steady_load(&url, bodies, 20, record.clone(), async {
        master.kill();
    })
    .await;
    let load_ended = Instant::now();
    settle(&record, 150, Duration::from_secs(60)).await;
    // The replica was promoted and dedupe writes there again.
    let role = Command::new("redis-cli")
        .args(["-p", &replica_port.to_string(), "role"])
        .output()
        .unwrap();
    let role = String::from_utf8_lossy(&role.stdout).into_owned();
    let fallbacks = gw.metrics.dedupe_fallback_count();
    {
        let guard = record.lock().unwrap();
        report("redis-sentinel", &guard, started, load_ended, &groups);
    }
    println!(
        "FAILOVER redis-sentinel: master (pid {master_pid}) killed; replica now {:?}; PostgreSQL fallbacks {fallbacks}",
        role.lines().next().unwrap_or_default()
    );
    assert!(role.starts_with("master"), "the replica was promoted: {role}");
    consumer.abort();
    gw.stop().await;
    delete_queue(&env, &queue);
    drop(sentinels);
    drop(replica);
    std::fs::remove_dir_all(dir).ok();
}

// ---------- hookgate: two ingress behind HAProxy and two dispatchers; one of each killed ----------

/// The `hookgate` binary the tests run as child processes.
fn hookgate_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().and_then(|d| d.parent()).unwrap().join("hookgate");
    assert!(
        bin.exists(),
        "{} not built: run `cargo build -p hookgate-cli`",
        bin.display()
    );
    bin
}

/// Waits until the child's `/readyz` answers 200.
async fn wait_ready(admin_port: u16, proc: &Proc) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let ready = http()
            .get(format!("http://127.0.0.1:{admin_port}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return;
        }
        assert!(Instant::now() < deadline, "not ready within 90 s\n{}", proc.log_tail());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A hookgate process of `role` with its own configuration directory.
async fn hookgate(
    env: &TestEnv,
    queue: &str,
    dir: &Path,
    name: &str,
    role: &str,
    vars: &[(&str, String)],
) -> (Proc, u16, u16) {
    let port = free_port();
    let config = env.write_config_dir(port, queue);
    let admin = hookgate_testkit::admin_port(&config);
    let mut vars = vars.to_vec();
    vars.push(("HOOKGATE_TEST_KEETA_SECRET", env.keeta_secret.clone()));
    let bin = hookgate_bin();
    let args = ["--config", config.to_str().unwrap(), "serve", "--role", role];
    let proc = Proc::spawn(dir, name, bin.to_str().unwrap(), &args, &vars);
    wait_ready(admin, &proc).await;
    (proc, port, admin)
}

#[tokio::test]
async fn a_killed_ingress_and_a_killed_dispatcher_lose_nothing() {
    if !failover_allowed("a_killed_ingress_and_a_killed_dispatcher_lose_nothing") {
        return;
    }
    let _serial = super::SERIAL.lock().await;
    let dir = scratch("hookgate");
    let queue = unique("hookgate-test.failover-procs.");
    let env = env_with_queue(&queue).await;
    // A dead dispatcher's rows come back after its lease: keep it short.
    let vars = [("HOOKGATE__DISPATCHER__LEASE_SECS", "5".to_owned())];
    let (mut ingress_a, port_a, admin_a) = hookgate(&env, &queue, &dir, "ingress-a", "ingress", &vars).await;
    let (ingress_b, port_b, admin_b) = hookgate(&env, &queue, &dir, "ingress-b", "ingress", &vars).await;
    let (mut dispatcher_a, _, _) = hookgate(&env, &queue, &dir, "dispatcher-a", "dispatcher", &vars).await;
    let (dispatcher_b, _, _) = hookgate(&env, &queue, &dir, "dispatcher-b", "dispatcher", &vars).await;
    let front = free_port();
    let cfg = dir.join("haproxy.cfg");
    std::fs::write(
        &cfg,
        format!(
            "global\n  maxconn 512\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 10s\n  timeout server 10s\n\
             \x20 retries 3\n  option redispatch\n  retry-on conn-failure empty-response\n\
             frontend hooks\n  bind 127.0.0.1:{front}\n  default_backend ingress\n\
             backend ingress\n  option httpchk GET /readyz\n\
             \x20 server a 127.0.0.1:{port_a} check port {admin_a} inter 500 fall 2 rise 2\n\
             \x20 server b 127.0.0.1:{port_b} check port {admin_b} inter 500 fall 2 rise 2\n"
        ),
    )
    .unwrap();
    let haproxy = Proc::spawn(&dir, "haproxy", "haproxy", &["-f", cfg.to_str().unwrap(), "-db"], &[]);
    wait_port(front, Duration::from_secs(20), &[&haproxy]).await;

    let record = Arc::new(Mutex::new(Record::default()));
    let consumer = consume(env.settings.service.rabbitmq.url.clone(), queue.clone(), record.clone());
    let (bodies, groups) = orders(&env, 400, 0);
    let url = format!("http://127.0.0.1:{front}/hooks/{}/keeta", env.tenant);
    let started = Instant::now();
    steady_load(&url, bodies, 20, record.clone(), async {
        ingress_a.kill();
        dispatcher_a.kill();
    })
    .await;
    let load_ended = Instant::now();
    settle(&record, 400, Duration::from_secs(60)).await;
    {
        let guard = record.lock().unwrap();
        report("hookgate-processes", &guard, started, load_ended, &groups);
    }
    consumer.abort();
    drop((haproxy, ingress_b, dispatcher_b));
    delete_queue(&env, &queue);
    std::fs::remove_dir_all(dir).ok();
}

// ---------- RabbitMQ: a three-node cluster with quorum queues; the node hookgate publishes through is killed ----------

/// One node of a test RabbitMQ cluster (`hgN-<id>@localhost`).
struct RabbitNode {
    name: String,
    port: u16,
    pid_file: PathBuf,
    proc: Proc,
}

/// `rabbitmqctl` of the test cluster (its own Erlang cookie in `home`).
fn rabbitmqctl(home: &Path, node: &str, args: &[&str]) -> String {
    let out = Command::new("/usr/lib/rabbitmq/bin/rabbitmqctl")
        .env("HOME", home)
        .args(["-n", node])
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "rabbitmqctl -n {node} {args:?}: {text}");
    text
}

fn rabbit_node(dir: &Path, home: &Path, id: &str, i: usize) -> RabbitNode {
    let port = free_port();
    let name = format!("hg{i}-{id}@localhost");
    let base = dir.join(format!("n{i}"));
    std::fs::create_dir_all(&base).unwrap();
    let conf = base.join("rabbitmq.conf");
    std::fs::write(
        &conf,
        format!("listeners.tcp.default = {port}\nloopback_users = none\n"),
    )
    .unwrap();
    let pid_file = base.join("pid");
    let path = |p: &Path| p.to_string_lossy().into_owned();
    let vars = [
        ("HOME", path(home)),
        ("RABBITMQ_NODENAME", name.clone()),
        ("RABBITMQ_NODE_PORT", port.to_string()),
        ("RABBITMQ_DIST_PORT", free_port().to_string()),
        ("RABBITMQ_MNESIA_BASE", path(&base.join("mnesia"))),
        ("RABBITMQ_LOG_BASE", path(&base.join("log"))),
        ("RABBITMQ_PID_FILE", path(&pid_file)),
        ("RABBITMQ_ENABLED_PLUGINS_FILE", path(&dir.join("enabled_plugins"))),
        ("RABBITMQ_CONFIG_FILE", path(&conf)),
    ];
    let proc = Proc::spawn(
        dir,
        &format!("rabbit{i}"),
        "/usr/lib/rabbitmq/bin/rabbitmq-server",
        &[],
        &vars,
    );
    RabbitNode {
        name,
        port,
        pid_file,
        proc,
    }
}

impl RabbitNode {
    /// SIGKILL of the node's Erlang VM.
    fn kill(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.pid_file) {
            let _ = Command::new("kill").args(["-9", pid.trim()]).status();
        }
        self.proc.kill();
    }
}

impl Drop for RabbitNode {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test]
async fn a_killed_rabbitmq_node_leaves_publishing_to_the_others() {
    if !failover_allowed("a_killed_rabbitmq_node_leaves_publishing_to_the_others") {
        return;
    }
    let _serial = super::SERIAL.lock().await;
    let dir = scratch("rabbitmq");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let cookie = home.join(".erlang.cookie");
    std::fs::write(&cookie, unique("HOOKGATETEST").to_uppercase()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cookie, std::fs::Permissions::from_mode(0o400)).unwrap();
    std::fs::write(dir.join("enabled_plugins"), "[].\n").unwrap();
    let id = unique("");
    let mut nodes: Vec<RabbitNode> = (1..=3).map(|i| rabbit_node(&dir, &home, &id, i)).collect();
    for n in &nodes {
        wait_port(n.port, Duration::from_secs(120), &[&n.proc]).await;
    }
    let first = nodes[0].name.clone();
    for n in &nodes[1..] {
        rabbitmqctl(&home, &n.name, &["stop_app"]);
        rabbitmqctl(&home, &n.name, &["join_cluster", &first]);
        rabbitmqctl(&home, &n.name, &["start_app"]);
    }
    let status = rabbitmqctl(&home, &first, &["cluster_status"]);
    assert!(nodes.iter().all(|n| status.contains(&n.name)), "{status}");

    let queue = unique("hookgate-test.failover-rabbit.");
    let env = env_with_queue(&queue).await;
    let url = |port: u16| format!("amqp://guest:guest@127.0.0.1:{port}/%2f");
    // hookgate knows the three nodes; it publishes through the first.
    let nodes_url = nodes.iter().map(|n| url(n.port)).collect::<Vec<_>>().join(",");
    let vars = [
        ("HOOKGATE__RABBITMQ__URL", nodes_url),
        ("HOOKGATE__TELEMETRY__LOG_FILTER", "info".to_owned()),
        // On a cluster, the queue of unroutable events is replicated too.
        ("HOOKGATE__RABBITMQ__UNROUTED_QUEUE_TYPE", "quorum".to_owned()),
    ];
    let (gw, port, _) = hookgate(&env, &queue, &dir, "hookgate", "all", &vars).await;
    let record = Arc::new(Mutex::new(Record::default()));
    // The consumer reads from a node that stays.
    let consumer = consume(url(nodes[2].port), queue.clone(), record.clone());
    let (bodies, groups) = orders(&env, 300, 0);
    let hook = format!("http://127.0.0.1:{port}/hooks/{}/keeta", env.tenant);
    let started = Instant::now();
    let victim = &mut nodes[0];
    steady_load(&hook, bodies, 20, record.clone(), async {
        victim.kill();
    })
    .await;
    let load_ended = Instant::now();
    settle(&record, 300, Duration::from_secs(90)).await;
    let stats = env.store().await.outbox_stats().await.unwrap();
    println!("FAILOVER rabbitmq-node: outbox after settling: {stats:?}");
    if stats.pending > 0 {
        let n2 = nodes[1].name.clone();
        let out = Command::new("/usr/lib/rabbitmq/bin/rabbitmqctl")
            .env("HOME", &home)
            .args([
                "-n",
                &n2,
                "list_queues",
                "name",
                "type",
                "leader",
                "members",
                "online",
                "state",
                "messages",
            ])
            .output()
            .unwrap();
        println!(
            "QUEUES {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new("/usr/lib/rabbitmq/bin/rabbitmqctl")
            .env("HOME", &home)
            .args(["-n", &n2, "cluster_status"])
            .output()
            .unwrap();
        println!("CLUSTER {}", String::from_utf8_lossy(&out.stdout));
    }
    {
        let guard = record.lock().unwrap();
        report("rabbitmq-node", &guard, started, load_ended, &groups);
    }
    consumer.abort();
    drop(gw);
    drop(nodes);
    std::fs::remove_dir_all(dir).ok();
}

// ---------- PostgreSQL: two nodes under Patroni with etcd, reached through HAProxy; the primary is killed ----------

/// `GET <rest>/primary` answers 200 on the node that is the primary.
async fn is_primary(rest_port: u16) -> bool {
    http()
        .get(format!("http://127.0.0.1:{rest_port}/primary"))
        .timeout(Duration::from_secs(1))
        .send()
        .await
        .is_ok_and(|r| r.status().as_u16() == 200)
}

#[tokio::test]
async fn a_killed_postgres_primary_is_replaced_by_patroni() {
    if !failover_allowed("a_killed_postgres_primary_is_replaced_by_patroni") {
        return;
    }
    let _serial = super::SERIAL.lock().await;
    let dir = scratch("patroni");
    // PostgreSQL refuses to run as root: the nodes run as `postgres`.
    let _ = Command::new("chown")
        .args(["-R", "postgres:postgres", dir.to_str().unwrap()])
        .status();
    let (etcd_client, etcd_peer) = (free_port(), free_port());
    let etcd_dir = dir.join("etcd");
    let etcd = Proc::spawn(
        &dir,
        "etcd",
        "etcd",
        &[
            "--name",
            "hg",
            "--data-dir",
            etcd_dir.to_str().unwrap(),
            "--enable-v2=true",
            "--listen-client-urls",
            &format!("http://127.0.0.1:{etcd_client}"),
            "--advertise-client-urls",
            &format!("http://127.0.0.1:{etcd_client}"),
            "--listen-peer-urls",
            &format!("http://127.0.0.1:{etcd_peer}"),
            "--initial-advertise-peer-urls",
            &format!("http://127.0.0.1:{etcd_peer}"),
            "--initial-cluster",
            &format!("hg=http://127.0.0.1:{etcd_peer}"),
        ],
        &[],
    );
    wait_port(etcd_client, Duration::from_secs(30), &[&etcd]).await;
    let scope = unique("hg");
    let bin = format!("/usr/lib/postgresql/{}/bin", pg_major());
    // A commit returns once the replica has it too: without it, the
    // primary's last acknowledged commits can die with it (a first run
    // without it lost 1 acked webhook of 400: docs/guarantees.md).
    let synchronous = true;
    let mut nodes = Vec::new();
    for i in 1..=2 {
        let (pg, rest) = (free_port(), free_port());
        let data = dir.join(format!("pg{i}"));
        let cfg = dir.join(format!("patroni{i}.yml"));
        std::fs::write(
            &cfg,
            format!(
                "scope: {scope}\nname: pg{i}\n\
                 restapi:\n  listen: 127.0.0.1:{rest}\n  connect_address: 127.0.0.1:{rest}\n\
                 etcd:\n  host: 127.0.0.1:{etcd_client}\n\
                 bootstrap:\n  dcs:\n    ttl: 10\n    loop_wait: 1\n    retry_timeout: 4\n    maximum_lag_on_failover: 1048576\n\
                 \x20   synchronous_mode: {sync}\n\
                 \x20   postgresql:\n      use_pg_rewind: false\n      parameters:\n        max_connections: 100\n\
                 \x20 initdb:\n    - encoding: UTF8\n\
                 postgresql:\n  listen: 127.0.0.1:{pg}\n  connect_address: 127.0.0.1:{pg}\n  data_dir: {data}\n\
                 \x20 bin_dir: {bin}\n  pgpass: {dir}/pgpass{i}\n\
                 \x20 authentication:\n    replication:\n      username: postgres\n      password: hookgate\n\
                 \x20   superuser:\n      username: postgres\n      password: hookgate\n\
                 \x20 pg_hba:\n    - local all all trust\n    - host all all 127.0.0.1/32 trust\n    - host replication all 127.0.0.1/32 trust\n\
                 \x20 parameters:\n    unix_socket_directories: '{dir}'\n\
                 tags:\n  nofailover: false\n",
                data = data.display(),
                dir = dir.display(),
                sync = synchronous,
            ),
        )
        .unwrap();
        let _ = Command::new("chown")
            .args(["-R", "postgres:postgres", dir.to_str().unwrap()])
            .status();
        let proc = Proc::spawn(
            &dir,
            &format!("patroni{i}"),
            "setpriv",
            &[
                "--reuid",
                "postgres",
                "--regid",
                "postgres",
                "--init-groups",
                "patroni",
                cfg.to_str().unwrap(),
            ],
            &[],
        );
        nodes.push((proc, pg, rest, data));
        // The first bootstraps the cluster before the second joins it.
        if i == 1 {
            let deadline = Instant::now() + Duration::from_secs(90);
            while !is_primary(rest).await {
                assert!(Instant::now() < deadline, "no primary\n{}", nodes[0].0.log_tail());
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
    // The replica is streaming, as the synchronous standby.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let replica = http()
            .get(format!("http://127.0.0.1:{}/sync", nodes[1].2))
            .send()
            .await
            .is_ok_and(|r| r.status().as_u16() == 200);
        if replica {
            break;
        }
        assert!(Instant::now() < deadline, "no replica\n{}", nodes[1].0.log_tail());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let front = free_port();
    let cfg = dir.join("haproxy.cfg");
    std::fs::write(
        &cfg,
        format!(
            "global\n  maxconn 256\ndefaults\n  mode tcp\n  timeout connect 1s\n  timeout client 30m\n  timeout server 30m\n\
             listen postgres\n  bind 127.0.0.1:{front}\n  option httpchk GET /primary\n  http-check expect status 200\n\
             \x20 default-server inter 500 fall 2 rise 2 on-marked-down shutdown-sessions\n\
             \x20 server pg1 127.0.0.1:{} check port {}\n  server pg2 127.0.0.1:{} check port {}\n",
            nodes[0].1, nodes[0].2, nodes[1].1, nodes[1].2
        ),
    )
    .unwrap();
    let haproxy = Proc::spawn(&dir, "haproxy", "haproxy", &["-f", cfg.to_str().unwrap(), "-db"], &[]);
    wait_port(front, Duration::from_secs(20), &[&haproxy]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    let queue = unique("hookgate-test.failover-pg.");
    let mut env = env_with_queue(&queue).await;
    let db = &mut env.settings.service.database;
    db.url = format!("postgres://postgres@127.0.0.1:{front}/{}", unique("hookgate_failover_"));
    db.create_if_missing = true;
    db.acquire_timeout_ms = 1000;
    let record = Arc::new(Mutex::new(Record::default()));
    let gw = env.start(Role::All).await;
    let consumer = consume(env.settings.service.rabbitmq.url.clone(), queue.clone(), record.clone());
    let (bodies, groups) = orders(&env, 400, 0);
    let url = gw.hook_url(&env.tenant, "keeta");
    let primary = if is_primary(nodes[0].2).await { 0 } else { 1 };
    let started = Instant::now();
    let victim = &mut nodes[primary];
    // A provider that retries for a minute (Keeta: 3 times, a minute apart).
    steady_load_retrying(&url, bodies, 20, 120, record.clone(), async {
        // The machine of the primary dies: Patroni and PostgreSQL with it.
        let postmaster = std::fs::read_to_string(victim.3.join("postmaster.pid")).unwrap_or_default();
        victim.0.kill();
        if let Some(pid) = postmaster.lines().next() {
            let _ = Command::new("kill").args(["-9", pid.trim()]).status();
        }
    })
    .await;
    let load_ended = Instant::now();
    settle(&record, 400, Duration::from_secs(90)).await;
    let promoted = is_primary(nodes[1 - primary].2).await;
    {
        let guard = record.lock().unwrap();
        report("postgres-patroni", &guard, started, load_ended, &groups);
    }
    assert!(
        promoted,
        "the replica was promoted\n{}",
        nodes[1 - primary].0.log_tail()
    );
    consumer.abort();
    gw.stop().await;
    delete_queue(&env, &queue);
    drop(haproxy);
    drop(nodes);
    drop(etcd);
    std::fs::remove_dir_all(dir).ok();
}

fn pg_major() -> String {
    std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .max()
        .unwrap_or_else(|| "15".into())
}
