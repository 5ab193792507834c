//! `hookgate simulate`: provider-faithful signed webhooks. The payload
//! builders here are also what the tests send (through the test kit), so the
//! tour and the tests exercise the same bytes.

use anyhow::{bail, Context};
use hookgate_config::{Settings, Source};
use hookgate_core::SourceKind;
use hookgate_providers::{PrivateKey, Provider, Sample, SampleContext, SampleError};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What `simulate` should send (also the `simulate` command's arguments).
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// Source kind: keeta, keeta-auth, pagsmile-issuing, pagsmile-payin, pagsmile-payout, bh, webhooks.
    pub kind: String,
    /// Event name (see `--help` of each kind, e.g. order-accepted, authorized, success, order), or `all`.
    pub event: String,
    /// Tenant.
    #[arg(long, default_value = "demo")]
    pub tenant: String,
    /// Source id (default: the tenant's first source of this kind).
    #[arg(long)]
    pub source: Option<String>,
    /// Webhooks to send.
    #[arg(long, default_value_t = 1)]
    pub count: u64,
    /// Concurrent requests.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Send every webhook twice (a provider retry of the same delivery).
    #[arg(long)]
    pub duplicate: bool,
    /// Corrupt every signature (expect 401).
    #[arg(long)]
    pub bad_signature: bool,
    /// Base URL of the gateway (default: http.public_base_url).
    #[arg(long)]
    pub url: Option<String>,
    /// BH's private key (PKCS#8 PEM) to sign BH pushes with.
    #[arg(long, default_value = "config/demo/bh-private.pem")]
    pub bh_private_key: std::path::PathBuf,
    /// A PEM CA certificate to trust besides the system's (a gateway serving
    /// TLS with a private or self-signed certificate, `http.tls_cert_file`).
    #[arg(long)]
    pub ca_file: Option<std::path::PathBuf>,
}

/// Totals of a `simulate` run.
#[derive(Debug, Default)]
pub struct Report {
    /// Requests sent.
    pub sent: u64,
    /// Answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Transport errors.
    pub errors: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        write!(
            f,
            "sent {} in {:.3}s ({:.0} req/s); statuses:",
            self.sent,
            secs,
            self.sent as f64 / secs
        )?;
        for (status, n) in &self.statuses {
            write!(f, " {status}×{n}")?;
        }
        if self.errors > 0 {
            write!(f, "; transport errors: {}", self.errors)?;
        }
        Ok(())
    }
}

impl Report {
    /// True when every request got the answer the run expected: 2xx, or 401
    /// when the signatures were corrupted on purpose.
    pub fn as_expected(&self, bad_signature: bool) -> bool {
        self.errors == 0
            && self.statuses.keys().all(|&s| {
                if bad_signature {
                    s == 401
                } else {
                    (200..300).contains(&s)
                }
            })
    }
}

/// Parses a kind name as the command line accepts it (`webhooks` for
/// `standard-webhooks`).
pub fn parse_kind(name: &str) -> Option<SourceKind> {
    hookgate_providers::lookup_cli(name).map(|p| p.kind())
}

/// Sends signed webhooks as configured for the tenant's source.
pub async fn run(settings: &Settings, args: &SimulateArgs) -> anyhow::Result<Report> {
    let kind = parse_kind(&args.kind).with_context(|| {
        let known: Vec<_> = hookgate_providers::kinds().map(|k| k.as_str()).collect();
        format!("unknown kind {:?}; known: {}", args.kind, known.join(", "))
    })?;
    let tenant = settings
        .tenants
        .get(&args.tenant)
        .with_context(|| format!("tenant {:?} is not configured", args.tenant))?;
    let source = match &args.source {
        Some(s) => tenant
            .source(s)
            .with_context(|| format!("source {s:?} is not configured for tenant {}", tenant.id))?,
        None => tenant
            .sources
            .values()
            .find(|s| s.kind == kind)
            .with_context(|| format!("tenant {} has no {} source", tenant.id, kind))?,
    };
    let provider = source.provider();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let now_ms = now.as_millis() as i64;
    let events: Vec<String> = if args.event == "all" {
        provider.sample_events().iter().map(|e| (*e).to_owned()).collect()
    } else if provider.sample_body(&args.event, 0, now_ms).is_some() {
        vec![args.event.clone()]
    } else {
        bail!(unknown_event(provider, &args.event));
    };
    let private_key = private_key_for(source, &args.bh_private_key)?;
    let base = args
        .url
        .clone()
        .unwrap_or_else(|| settings.service.http.public_base_url.clone());
    let target = format!("{}/hooks/{}/{}", base.trim_end_matches('/'), tenant.id, source.id);
    // Vary business ids between runs, so a second run is not deduplicated.
    let offset = u64::from(rand::random::<u32>());
    let mut requests = Vec::with_capacity(args.count as usize);
    for seq in 0..args.count {
        let event = &events[(seq as usize) % events.len()];
        let body = provider
            .sample_body(event, seq + offset, now_ms)
            .with_context(|| unknown_event(provider, event))?;
        let delivery_id = format!("msg_{now_ms}_{seq}");
        let ctx = SampleContext {
            now_secs: now_ms / 1000,
            delivery_id: &delivery_id,
            private_key: private_key.as_ref(),
        };
        let sample = source
            .sign_sample(body, &ctx)
            .map_err(|e| signing_failed(e, &args.bh_private_key))?;
        requests.push(if args.bad_signature {
            provider.corrupt_sample(sample)
        } else {
            sample
        });
    }
    let client = client(args.ca_file.as_deref())?;
    send_all(&client, &target, requests, args.concurrency, args.duplicate).await
}

fn unknown_event(provider: &dyn Provider, event: &str) -> String {
    format!(
        "unknown {} event {event:?}; known: all, {}",
        provider.kind(),
        provider.sample_events().join(", ")
    )
}

/// The provider's own private key, read from `path` only when the source's
/// provider signs with a key pair whose private half the gateway never holds
/// (BH): a probe sample signed without a key tells.
pub fn private_key_for(source: &Source, path: &std::path::Path) -> anyhow::Result<Option<PrivateKey>> {
    let provider = source.provider();
    let probe = provider
        .sample_body(provider.typical_sample(), 0, 0)
        .unwrap_or_default();
    let ctx = SampleContext {
        now_secs: 0,
        delivery_id: "probe",
        private_key: None,
    };
    if !matches!(source.sign_sample(probe, &ctx), Err(SampleError::NoPrivateKey(_))) {
        return Ok(None);
    }
    let pem = std::fs::read_to_string(path).with_context(|| {
        format!(
            "reading {}'s private key {} (--bh-private-key)",
            provider.kind(),
            path.display()
        )
    })?;
    let key = PrivateKey::from_pkcs8_pem(&pem)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("private key {}", path.display()))?;
    Ok(Some(key))
}

/// A signing failure, naming the option that fixes a missing private key.
pub fn signing_failed(error: SampleError, key_path: &std::path::Path) -> anyhow::Error {
    match error {
        SampleError::NoPrivateKey(_) => {
            anyhow::anyhow!("{error}: no key at {} (--bh-private-key)", key_path.display())
        }
        other => anyhow::Error::new(other),
    }
}

/// The HTTP client of `simulate`, trusting `ca_file` besides the system's roots.
pub fn client(ca_file: Option<&std::path::Path>) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(30));
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).with_context(|| format!("reading --ca-file {}", path.display()))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem).unwrap_or_default();
        if certificates.is_empty() {
            bail!("--ca-file {}: holds no PEM certificate", path.display());
        }
        for ca in certificates {
            builder = builder.add_root_certificate(ca);
        }
    }
    Ok(builder.build()?)
}

/// Posts every request (twice each with `duplicate`) with bounded concurrency.
pub async fn send_all(
    client: &reqwest::Client,
    target: &str,
    requests: Vec<Sample>,
    concurrency: usize,
    duplicate: bool,
) -> anyhow::Result<Report> {
    let client = client.clone();
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicU64::new(0));
    let total = requests.len() as u64 * if duplicate { 2 } else { 1 };
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, requests, next, target) = (client.clone(), requests.clone(), next.clone(), target.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut report = Report::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let sample = &requests[(i % requests.len() as u64) as usize];
                let mut req = client
                    .post(&target)
                    .header("content-type", "application/json")
                    .body(sample.body.clone());
                for (name, value) in &sample.headers {
                    req = req.header(name, value);
                }
                report.sent += 1;
                match req.send().await {
                    Ok(r) => *report.statuses.entry(r.status().as_u16()).or_default() += 1,
                    Err(_) => report.errors += 1,
                }
            }
            report
        }));
    }
    let mut report = Report::default();
    for t in tasks {
        let r = t.await?;
        report.sent += r.sent;
        report.errors += r.errors;
        for (s, n) in r.statuses {
            *report.statuses.entry(s).or_default() += n;
        }
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// `hookgate simulate`: sends, prints the report, fails unless every answer
/// was the expected one.
pub async fn run_command(config: &std::path::Path, args: &SimulateArgs) -> anyhow::Result<()> {
    let settings = crate::settings::load(config)?;
    let report = run(&settings, args).await?;
    crate::outln!("{report}");
    if !report.as_expected(args.bad_signature) {
        let expected = if args.bad_signature { "401" } else { "2xx" };
        anyhow::bail!("not every request was answered {expected}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn a_ca_file_is_trusted_and_a_bad_one_named() {
        let dir = std::env::temp_dir().join(format!("hookgate-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let good = dir.join("ca.pem");
        std::fs::write(&good, cert.cert.pem()).unwrap();
        assert!(super::client(Some(&good)).is_ok());
        let bad = dir.join("junk.pem");
        std::fs::write(&bad, "not a certificate").unwrap();
        let err = format!("{:#}", super::client(Some(&bad)).unwrap_err());
        assert!(err.contains("--ca-file"), "{err}");
        let err = format!("{:#}", super::client(Some(&dir.join("missing.pem"))).unwrap_err());
        assert!(err.contains("--ca-file") && err.contains("missing.pem"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
