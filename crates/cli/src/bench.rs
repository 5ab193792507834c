//! `hookgate bench`: a load generator for a running gateway. It sends
//! provider-signed webhooks (each unique, a share of them resent as provider
//! retries) and consumes the tenant's events from RabbitMQ at the same time.
//!
//! * closed loop: `concurrency` workers send back to back (maximum throughput);
//! * open loop: requests are started at a fixed `rate` whatever the answers
//!   do, and latency is measured from each request's *scheduled* send time,
//!   so a stalled gateway cannot hide queueing (no coordinated omission).
//!
//! Reports acks/s, ack latency percentiles, non-2xx answers, end-to-end
//! latency (scheduled send → event consumed) and events received vs acked.

use crate::simulate::{parse_kind, private_key_for, signing_failed};
use anyhow::Context;
use hookgate_config::Settings;
use hookgate_core::SourceKind;
use hookgate_dispatcher::Subscription;
use hookgate_providers::{PrivateKey, Sample, SampleContext};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// `hookgate bench` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Source kind to send (keeta, keeta-auth, pagsmile-*, bh, webhooks).
    #[arg(long, default_value = "keeta")]
    pub kind: String,
    /// Event to send (default: one whose events are all distinct, e.g. order-accepted).
    #[arg(long)]
    pub event: Option<String>,
    #[arg(long, default_value = "demo")]
    pub tenant: String,
    /// Source id (default: the tenant's first source of the kind).
    #[arg(long)]
    pub source: Option<String>,
    /// closed (fixed concurrency) or open (fixed arrival rate).
    #[arg(long, default_value = "closed")]
    pub mode: String,
    /// Closed loop: concurrent connections.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Open loop: requests per second.
    #[arg(long, default_value_t = 5000)]
    pub rate: u64,
    /// Open loop: at most this many requests in flight (connections); the
    /// others wait in the client, still timed from their scheduled send.
    /// 0: no bound (a connection of its own for every request in flight).
    #[arg(long, default_value_t = 0)]
    pub connections: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 20)]
    pub duration: u64,
    /// Share of requests that resend an earlier delivery (0.0-1.0).
    #[arg(long, default_value_t = 0.0)]
    pub duplicates: f64,
    /// Do not consume events (ack metrics only).
    #[arg(long)]
    pub no_consume: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Base URL of the gateway (default: http.public_base_url).
    #[arg(long)]
    pub url: Option<String>,
    /// Base URL of its operations listener, for /metrics (default: from admin.listen).
    #[arg(long)]
    pub admin_url: Option<String>,
    /// BH's private key, for --kind bh.
    #[arg(long, default_value = "config/demo/bh-private.pem")]
    pub bh_private_key: std::path::PathBuf,
    /// Write `--requests` pre-signed unique requests to this file (one per
    /// line: path, headers and body, tab-separated) for an external client
    /// (`scripts/bench/wrk.sh`), and send nothing.
    #[arg(long)]
    pub write_requests: Option<std::path::PathBuf>,
    /// Pad each body to at least this many bytes with a top-level
    /// `benchPadding` string (signed with the rest; the body must be a JSON
    /// object). 0: the sample as it is.
    #[arg(long, default_value_t = 0)]
    pub body_bytes: usize,
    /// How many requests `--write-requests` writes.
    #[arg(long, default_value_t = 200_000)]
    pub requests: u64,
}

/// One answered request.
struct Sent {
    delivery_key: String,
    scheduled: Instant,
    latency: Duration,
    status: u16,
    retry: bool,
}

/// Builds the `seq`-th request; returns (sample, delivery key).
struct Generator {
    source: hookgate_config::Source,
    kind: SourceKind,
    event: String,
    private_key: Option<PrivateKey>,
    key_path: std::path::PathBuf,
    run: u64,
    body_bytes: usize,
}

impl Generator {
    fn make(&self, seq: u64) -> anyhow::Result<(Sample, String)> {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as i64;
        let body = (self.source.provider())
            .sample_body(&self.event, self.run + seq, now_ms)
            .context("unknown event")?;
        let body = pad(body, self.body_bytes)?;
        let id = format!("bench_{}_{seq}", self.run);
        let ctx = SampleContext {
            now_secs: now_ms / 1000,
            delivery_id: &id,
            private_key: self.private_key.as_ref(),
        };
        let sample = (self.source)
            .sign_sample(body, &ctx)
            .map_err(|e| signing_failed(e, &self.key_path))?;
        let key = hookgate_providers::delivery_key(self.kind, &sample.body, &sample.headers)?.to_string();
        Ok((sample, key))
    }
}

/// `body` with a `benchPadding` field that brings it to `size` bytes (as
/// near as JSON allows); unchanged when it is already that large. The
/// padding is letters and digits drawn at random: PostgreSQL would compress
/// a repeated character to almost nothing, which real bodies do not allow.
fn pad(body: Vec<u8>, size: usize) -> anyhow::Result<Vec<u8>> {
    if body.len() >= size {
        return Ok(body);
    }
    let mut object: serde_json::Map<String, Value> =
        serde_json::from_slice(&body).context("only a JSON object body can be padded")?;
    // `,"benchPadding":""` is 18 bytes.
    let fill = size.saturating_sub(body.len() + 18);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let padding: String = (0..fill)
        .map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())]))
        .collect();
    object.insert("benchPadding".into(), Value::String(padding));
    Ok(serde_json::to_vec(&object)?)
}

/// Writes `count` signed unique requests, one per line: the path, then
/// `name: value` for each header, then the body, separated by tabs.
fn write_requests(generator: &Generator, path: &str, file: &std::path::Path, count: u64) -> anyhow::Result<Value> {
    use std::io::Write;
    let mut out =
        std::io::BufWriter::new(std::fs::File::create(file).with_context(|| format!("creating {}", file.display()))?);
    for seq in 0..count {
        let (sample, _) = generator.make(seq)?;
        let body = std::str::from_utf8(&sample.body).context("a body that is not UTF-8 cannot be written as a line")?;
        anyhow::ensure!(
            !body.contains(['\t', '\n', '\r']),
            "a body with tabs or line breaks cannot be written as a line"
        );
        let mut line = String::from(path);
        for (name, value) in &sample.headers {
            line.push('\t');
            line.push_str(&format!("{name}: {value}"));
        }
        line.push('\t');
        line.push_str(body);
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(serde_json::json!({ "written": count, "file": file.display().to_string() }))
}

/// Nearest-rank percentile of sorted values; `p` in percent with up to one
/// decimal (integer arithmetic, so 99.9 of 1,000 values is the 999th).
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let per_mille = (p * 10.0).round().clamp(0.0, 1000.0) as usize;
    let rank = (per_mille * sorted.len()).div_ceil(1000);
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(mut micros: Vec<u64>) -> Value {
    micros.sort_unstable();
    let ms = |v: u64| (v as f64 / 1000.0 * 1000.0).round() / 1000.0;
    json!({
        "count": micros.len(),
        "p50_ms": ms(percentile(&micros, 50.0)),
        "p90_ms": ms(percentile(&micros, 90.0)),
        "p99_ms": ms(percentile(&micros, 99.0)),
        "p99_9_ms": ms(percentile(&micros, 99.9)),
        "max_ms": ms(micros.last().copied().unwrap_or(0)),
    })
}

async fn send(client: &reqwest::Client, url: &str, sample: &Sample) -> u16 {
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .body(sample.body.clone());
    for (name, value) in &sample.headers {
        req = req.header(name, value);
    }
    match req.send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

/// Scrapes one value from the gateway's /metrics.
async fn scrape(client: &reqwest::Client, base: &str, metric: &str) -> Option<f64> {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find(|l| l.starts_with(metric))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
}

/// `hookgate bench`: runs the load and prints its table (or JSON).
pub async fn run_command(config: &std::path::Path, args: &BenchArgs) -> anyhow::Result<()> {
    let report = run(&crate::settings::load(config)?, args).await?;
    if args.json || args.write_requests.is_some() {
        crate::outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        crate::out!("{}", table(&report));
    }
    Ok(())
}

/// Runs the benchmark and returns the report as JSON.
pub async fn run(settings: &Settings, args: &BenchArgs) -> anyhow::Result<Value> {
    let kind = parse_kind(&args.kind).with_context(|| format!("unknown kind {:?}", args.kind))?;
    let tenant = settings
        .tenants
        .get(&args.tenant)
        .with_context(|| format!("tenant {:?} is not configured", args.tenant))?;
    let source = match &args.source {
        Some(s) => tenant.source(s).with_context(|| format!("no source {s}"))?,
        None => tenant
            .sources
            .values()
            .find(|s| s.kind == kind)
            .with_context(|| format!("no {kind} source"))?,
    }
    .clone();
    let event = (args.event.clone()).unwrap_or_else(|| source.provider().typical_sample().to_owned());
    let private_key = private_key_for(&source, &args.bh_private_key)?;
    let base = args
        .url
        .clone()
        .unwrap_or_else(|| settings.service.http.public_base_url.clone());
    let base = base.trim_end_matches('/').to_owned();
    // Metrics live on the operations listener; a wildcard bind is reached on loopback.
    let admin = args.admin_url.clone().unwrap_or_else(|| {
        let listen = &settings.service.admin.listen;
        format!(
            "http://{}",
            listen.replace("0.0.0.0", "127.0.0.1").replace("[::]", "[::1]")
        )
    });
    let admin = admin.trim_end_matches('/').to_owned();
    let url = format!("{base}/hooks/{}/{}", tenant.id, source.id);
    if let Some(file) = &args.write_requests {
        let generator = Generator {
            source: source.clone(),
            kind,
            event: event.clone(),
            private_key: private_key.clone(),
            key_path: args.bh_private_key.clone(),
            run: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs()
                * 1_000_000,
            body_bytes: args.body_bytes,
        };
        let path = format!("/hooks/{}/{}", tenant.id, source.id);
        return write_requests(&generator, &path, file, args.requests);
    }
    let generator = Arc::new(Generator {
        source,
        kind,
        event: event.clone(),
        private_key,
        key_path: args.bh_private_key.clone(),
        run: u64::from(rand::random::<u32>()) << 20,
        body_bytes: args.body_bytes,
    });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(args.concurrency.max(args.connections).max(64))
        .build()?;

    // Consumer: a temporary queue bound with '#', recording arrival times.
    let (events_tx, mut events_rx) = mpsc::unbounded_channel::<(String, String, Instant)>();
    let consumer = if args.no_consume {
        None
    } else {
        let rabbit = &settings.service.rabbitmq;
        let amqp = hookgate_dispatcher::amqp::vhost_url(rabbit.first_node(), tenant.vhost.as_deref());
        let mut sub = Subscription::open(&amqp, &tenant.exchange, &rabbit.unrouted_exchange, &["#".to_owned()]).await?;
        Some(tokio::spawn(async move {
            while let Some(Ok(m)) = sub.next().await {
                let at = Instant::now();
                let v: Value = serde_json::from_slice(&m.body).unwrap_or_default();
                let key = v["deliveryKey"].as_str().unwrap_or_default().to_owned();
                let id = v["id"].as_str().unwrap_or_default().to_owned();
                if events_tx.send((key, id, at)).is_err() {
                    break;
                }
            }
        }))
    };

    let rss_before = scrape(&client, &admin, "hookgate_process_resident_memory_bytes").await;
    let mut cpu_before = crate::cost::snapshot();
    let (sent_tx, mut sent_rx) = mpsc::unbounded_channel::<Sent>();
    let mut started = Instant::now();
    let deadline = started + Duration::from_secs(args.duration);
    let dup_share = args.duplicates.clamp(0.0, 1.0);
    match args.mode.as_str() {
        "closed" => {
            let mut workers = Vec::new();
            for w in 0..args.concurrency.max(1) as u64 {
                let (client, url, generator, tx) = (client.clone(), url.clone(), generator.clone(), sent_tx.clone());
                workers.push(tokio::spawn(async move {
                    let mut seq = w << 32;
                    let mut last: Option<(Sample, String)> = None;
                    while Instant::now() < deadline {
                        let retry = last.is_some() && rand::random::<f64>() < dup_share;
                        let (sample, key) = match (&last, retry) {
                            (Some(prev), true) => prev.clone(),
                            _ => {
                                seq += 1;
                                match generator.make(seq) {
                                    Ok(x) => x,
                                    Err(_) => break,
                                }
                            }
                        };
                        let scheduled = Instant::now();
                        let status = send(&client, &url, &sample).await;
                        let _ = tx.send(Sent {
                            delivery_key: key.clone(),
                            scheduled,
                            latency: scheduled.elapsed(),
                            status,
                            retry,
                        });
                        last = Some((sample, key));
                    }
                }));
            }
            for w in workers {
                let _ = w.await;
            }
        }
        "open" => {
            let interval = Duration::from_secs_f64(1.0 / args.rate.max(1) as f64);
            let total = args.rate.max(1) * args.duration;
            // Requests are prepared ahead so signing does not skew the schedule.
            let mut prepared = Vec::with_capacity(total as usize);
            let mut last: Option<(Sample, String)> = None;
            for seq in 0..total {
                let retry = last.is_some() && rand::random::<f64>() < dup_share;
                let item = match (&last, retry) {
                    (Some(prev), true) => prev.clone(),
                    _ => generator.make(seq)?,
                };
                last = Some(item.clone());
                prepared.push((item, retry));
            }
            let slots = (args.connections > 0).then(|| Arc::new(tokio::sync::Semaphore::new(args.connections)));
            // The load (its duration, its cost) starts after the preparation.
            let start = Instant::now();
            started = start;
            cpu_before = crate::cost::snapshot();
            let mut inflight = Vec::with_capacity(prepared.len());
            for (i, ((sample, key), retry)) in prepared.into_iter().enumerate() {
                let scheduled = start + interval * i as u32;
                tokio::time::sleep_until(scheduled.into()).await;
                let (client, url, tx, slots) = (client.clone(), url.clone(), sent_tx.clone(), slots.clone());
                inflight.push(tokio::spawn(async move {
                    let _slot = match &slots {
                        Some(s) => s.clone().acquire_owned().await.ok(),
                        None => None,
                    };
                    let status = send(&client, &url, &sample).await;
                    let _ = tx.send(Sent {
                        delivery_key: key,
                        scheduled,
                        latency: scheduled.elapsed(),
                        status,
                        retry,
                    });
                }));
            }
            for t in inflight {
                let _ = t.await;
            }
        }
        other => anyhow::bail!("unknown mode {other:?}: closed or open"),
    }
    let load_secs = started.elapsed().as_secs_f64();
    drop(sent_tx);
    let mut sent = Vec::new();
    while let Some(s) = sent_rx.recv().await {
        sent.push(s);
    }
    let acked: Vec<&Sent> = sent.iter().filter(|s| (200..300).contains(&s.status)).collect();
    let first_send: HashMap<&str, Instant> = {
        let mut m = HashMap::new();
        for s in &acked {
            m.entry(s.delivery_key.as_str())
                .and_modify(|t: &mut Instant| *t = (*t).min(s.scheduled))
                .or_insert(s.scheduled);
        }
        m
    };
    let unique_acked = first_send.len();

    // Wait until every acked delivery has produced its event (or 60 s).
    let mut received: HashMap<String, Instant> = HashMap::new();
    let mut event_ids = HashSet::new();
    let mut duplicates = 0u64;
    let drain_started = Instant::now();
    if consumer.is_some() {
        while received.len() < unique_acked && drain_started.elapsed() < Duration::from_secs(60) {
            match tokio::time::timeout(Duration::from_secs(5), events_rx.recv()).await {
                Ok(Some((key, id, at))) => {
                    if !event_ids.insert(id) {
                        duplicates += 1;
                    }
                    received.entry(key).or_insert(at);
                }
                Ok(None) => break,
                Err(_) if drain_started.elapsed() > Duration::from_secs(20) => break,
                Err(_) => {}
            }
        }
    }
    let e2e: Vec<u64> = received
        .iter()
        .filter_map(|(k, at)| {
            first_send
                .get(k.as_str())
                .map(|t0| at.saturating_duration_since(*t0).as_micros() as u64)
        })
        .collect();
    let cpu_after = crate::cost::snapshot();
    let rss_after = scrape(&client, &admin, "hookgate_process_resident_memory_bytes").await;
    let outbox = scrape(&client, &admin, "hookgate_outbox_pending").await;
    if let Some(c) = consumer {
        c.abort();
    }
    let non_2xx = sent.len() - acked.len();
    let mut statuses: HashMap<u16, u64> = HashMap::new();
    for s in &sent {
        *statuses.entry(s.status).or_default() += 1;
    }
    Ok(json!({
        "mode": args.mode,
        "kind": kind.as_str(),
        "event": event,
        "concurrency": if args.mode == "closed" { json!(args.concurrency) } else { Value::Null },
        "rate": if args.mode == "open" { json!(args.rate) } else { Value::Null },
        "connections": if args.mode == "open" { json!(args.connections) } else { Value::Null },
        "duration_s": (load_secs * 100.0).round() / 100.0,
        "requests": sent.len(),
        "retries_sent": sent.iter().filter(|s| s.retry).count(),
        "acked": acked.len(),
        "acks_per_s": (acked.len() as f64 / load_secs).round(),
        "non_2xx": non_2xx,
        "statuses": statuses,
        "ack_latency": summary(acked.iter().map(|s| s.latency.as_micros() as u64).collect()),
        // How fast refusals (503 under overload) came back.
        "non_2xx_latency": summary(
            sent.iter()
                .filter(|s| !(200..300).contains(&s.status))
                .map(|s| s.latency.as_micros() as u64)
                .collect()
        ),
        "unique_deliveries_acked": unique_acked,
        "events_received": if consumer_enabled(args) { json!(received.len()) } else { Value::Null },
        "events_missing": if consumer_enabled(args) { json!(unique_acked.saturating_sub(received.len())) } else { Value::Null },
        "duplicate_events": duplicates,
        "end_to_end_latency": summary(e2e),
        "outbox_pending_after": outbox,
        "gateway_rss_mib_before": rss_before.map(|b| (b / 1048576.0).round()),
        "gateway_rss_mib_after": rss_after.map(|b| (b / 1048576.0).round()),
        // From the start of the load to the last event received (or the end of the load).
        "cost": crate::cost::report(cpu_before.as_ref(), cpu_after.as_ref(), unique_acked),
    }))
}

fn consumer_enabled(args: &BenchArgs) -> bool {
    !args.no_consume
}

/// The report as a human table.
pub fn table(r: &Value) -> String {
    let lat = |v: &Value| {
        format!(
            "p50 {} ms  p90 {} ms  p99 {} ms  p99.9 {} ms  max {} ms  (n={})",
            v["p50_ms"], v["p90_ms"], v["p99_ms"], v["p99_9_ms"], v["max_ms"], v["count"]
        )
    };
    let load = match r["mode"].as_str() {
        Some("open") => match r["connections"].as_u64() {
            Some(n) if n > 0 => format!("open loop at {} req/s over at most {n} connections", r["rate"]),
            _ => format!("open loop at {} req/s", r["rate"]),
        },
        _ => format!("closed loop, {} connections", r["concurrency"]),
    };
    format!(
        "hookgate bench: {} {} / {}, {} for {} s\n\
         requests        {} ({} provider retries)\n\
         acked (2xx)     {}  →  {} acks/s\n\
         non-2xx         {}  {}  {}\n\
         ack latency     {}\n\
         events          {} received for {} unique acked deliveries ({} missing), {} duplicate events\n\
         end to end      {}\n\
         outbox pending  {}   gateway RSS {} → {} MiB\n\
         CPU per webhook {} (machine idle {})\n",
        r["kind"].as_str().unwrap_or(""),
        r["event"].as_str().unwrap_or(""),
        r["mode"].as_str().unwrap_or(""),
        load,
        r["duration_s"],
        r["requests"],
        r["retries_sent"],
        r["acked"],
        r["acks_per_s"],
        r["non_2xx"],
        r["statuses"],
        lat(&r["non_2xx_latency"]),
        lat(&r["ack_latency"]),
        r["events_received"],
        r["unique_deliveries_acked"],
        r["events_missing"],
        r["duplicate_events"],
        lat(&r["end_to_end_latency"]),
        r["outbox_pending_after"],
        r["gateway_rss_mib_before"],
        r["gateway_rss_mib_after"],
        cost_line(&r["cost"]["cpu_us_per_webhook"]),
        r["cost"]["machine_idle_share"],
    )
}

/// `hookgate 48 µs, postgresql 110 µs, ...` of the cost report.
fn cost_line(per_webhook: &Value) -> String {
    match per_webhook.as_object() {
        Some(groups) => groups
            .iter()
            .map(|(g, us)| format!("{g} {us} µs"))
            .collect::<Vec<_>>()
            .join(", "),
        None => "unknown (no /proc)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn padding_reaches_the_size_and_keeps_the_fields() {
        let body = br#"{"a":1}"#.to_vec();
        let padded = super::pad(body.clone(), 1024).unwrap();
        assert_eq!(padded.len(), 1024);
        let v: serde_json::Value = serde_json::from_slice(&padded).unwrap();
        assert_eq!(v["a"], 1);
        assert_eq!(super::pad(body.clone(), 3).unwrap(), body);
        assert!(super::pad(b"[1]".to_vec(), 64).is_err());
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<u64> = (1..=1000).collect();
        assert_eq!(super::percentile(&v, 50.0), 500);
        assert_eq!(super::percentile(&v, 99.9), 999);
        assert_eq!(super::percentile(&v, 100.0), 1000);
        assert_eq!(super::percentile(&[], 50.0), 0);
        assert_eq!(super::percentile(&[7], 99.0), 7);
    }
}
