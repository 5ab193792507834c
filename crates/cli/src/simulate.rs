//! `hookgate simulate`: provider-faithful signed webhooks. The payload
//! builders here are also what the tests send (through the test kit), so the
//! tour and the tests exercise the same bytes.

use crate::samples::{self, Sample};
use anyhow::{bail, Context};
use hookgate_config::Settings;
use hookgate_core::SourceKind;
use hookgate_providers::bh::signature::PrivateKey;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Keeta general webhooks: payload builders and signing.
pub mod keeta {
    use super::*;
    use hookgate_providers::keeta::signature::{sign, Params};

    /// Every event `simulate keeta` knows: (id, name).
    pub const EVENTS: &[(i64, &str)] = &[
        (1001, "order-placed"),
        (1002, "order-accepted"),
        (1003, "order-completed"),
        (1004, "order-cancelled"),
        (1005, "refund"),
        (1006, "delivery"),
        (1007, "partial-refund"),
        (1101, "business-hours"),
        (1102, "store-status"),
        (1201, "image-binding"),
        (1202, "menu-sync"),
    ];

    /// Resolves an event given by id (`1002`) or name (`order-accepted`).
    pub fn event_id(name: &str) -> Option<i64> {
        EVENTS
            .iter()
            .find(|(id, n)| *n == name || id.to_string() == name)
            .map(|(id, _)| *id)
    }

    /// A realistic `message` payload for an event; `seq` varies the ids.
    pub fn message(event_id: i64, seq: u64, shop_id: i64, now_ms: i64) -> Value {
        let order = 553_440_887_574_627 + seq as i64;
        let after_sale = 833_443_425_408_767 + seq as i64;
        match event_id {
            1001 => json!({"orderInfo": {
                "baseOrder": {"orderViewId": order, "shopId": shop_id, "chooseTableware": 1,
                    "deliveryTime": now_ms + 35 * 60_000, "ctime": now_ms - 2_000,
                    "estimatedDiningReadyUrgeTime": now_ms + 15 * 60_000},
                "merchantOrder": {"ctime": now_ms - 1_000},
                "products": [
                    {"spuId": 90_001, "skuId": 91_001, "name": "Char siu rice", "count": 2, "price": 5_800},
                    {"spuId": 90_002, "skuId": 91_002, "name": "Milk tea", "count": 1, "price": 2_200}],
                "recipientInfo": {"name": "Chan T***", "phone": "+852 5***1234"},
                "feeDtl": {"productTotal": 13_800, "deliveryFee": 1_500},
                "bigOrderTag": false}}),
            1002 => json!({"opTime": now_ms, "orderViewId": order, "shopId": shop_id, "status": 30}),
            1003 => json!({"opTime": now_ms, "orderViewId": order, "shopId": shop_id, "status": 40}),
            1004 => json!({"opTime": now_ms, "orderViewId": order, "shopId": shop_id, "status": 50,
                "cancelReason": "Store is too busy", "opType": 20}),
            1005 => json!({"orderViewId": order, "shopId": shop_id, "status": 2001, "afterSaleOrderId": after_sale,
                "isAppeal": 0, "pictures": "[\"https://img.example.com/r1.jpg\"]", "money": 2_800, "currency": "HKD",
                "applyOpType": 10, "applyReason": "Item missing", "handleOpType": 20, "handleReason": "",
                "opTime": now_ms}),
            1006 => json!({"orderViewId": order, "shopId": shop_id, "logisticsStatus": 20, "opTime": now_ms,
                "courierName": "Lee K.", "courierPhone": "+852 6***5678", "bigOrderTag": false,
                "merchantSubOrderId": 0}),
            1007 => json!({"orderViewId": order, "shopId": shop_id, "status": 5001, "afterSaleOrderId": after_sale,
                "isAppeal": 0, "pictures": "[]", "money": 3_620, "currency": "HKD", "applyOpType": 10,
                "applyReason": "Wrong drink", "handleOpType": 20, "handleReason": "", "opTime": now_ms,
                "refundProducts": [{"spuId": 90_002, "skuId": 91_002, "count": 1, "name": "Milk tea"}]}),
            1101 => json!({"shopId": shop_id,
                "businessHourOfTheWeek": {
                    "mon": [{"startTime": 36_000, "endTime": 79_200}], "tue": [{"startTime": 36_000, "endTime": 79_200}],
                    "wed": [{"startTime": 36_000, "endTime": 79_200}], "thu": [{"startTime": 36_000, "endTime": 79_200}],
                    "fri": [{"startTime": 36_000, "endTime": 82_800}], "sat": [{"startTime": 39_600, "endTime": 82_800}],
                    "sun": [{"startTime": 0, "endTime": 0}]},
                "specialBusinessHour": [{"startDate": now_ms + 86_400_000 + seq as i64 * 1000,
                    "endDate": now_ms + 2 * 86_400_000,
                    "businessHour": [{"startTime": 0, "endTime": 0}]}]}),
            1102 => json!({"shopId": shop_id, "fromStatus": 3, "toStatus": if seq % 2 == 0 { 4 } else { 3 }}),
            1201 => json!({"shopId": shop_id, "taskId": format!("img-{}-{seq}", now_ms), "errorSpuDTOList": []}),
            1202 => json!({"shopId": shop_id, "taskId": format!("menu-{}-{seq}", now_ms),
                "errorSpuDTOList": [{"id": "90003", "name": "Egg tart", "code": "1001",
                    "message": "picture missing", "openItemCode": "ET-01"}]}),
            _ => json!({"shopId": shop_id}),
        }
    }

    /// An unsigned envelope: `message` JSON-encoded as Keeta sends it.
    pub fn envelope(
        app_id: i64,
        event_id: i64,
        message_id: &str,
        shop_id: i64,
        message: &Value,
        timestamp: i64,
    ) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("eventId".into(), json!(event_id));
        m.insert("appId".into(), json!(app_id));
        m.insert("messageId".into(), json!(message_id));
        m.insert("shopId".into(), json!(shop_id));
        m.insert("message".into(), Value::String(message.to_string()));
        m.insert("timestamp".into(), json!(timestamp));
        m
    }

    /// Adds `sig` computed with the documented recipe; returns the body bytes.
    pub fn signed_body(mut envelope: Map<String, Value>, callback_url: &str, secret: &str) -> Vec<u8> {
        envelope.remove("sig");
        let unsigned = Value::Object(envelope.clone()).to_string();
        let sig = match Params::from_json(unsigned.as_bytes()) {
            Ok(params) => sign(callback_url, &params, secret),
            Err(_) => String::new(),
        };
        let mut out = Map::new();
        out.insert("sig".into(), Value::String(sig));
        out.extend(envelope);
        Value::Object(out).to_string().into_bytes()
    }

    /// Flips the last hex digit of `sig` in a signed body.
    pub fn corrupt_signature(body: &[u8]) -> Vec<u8> {
        let mut v: Map<String, Value> = serde_json::from_slice(body).unwrap_or_default();
        if let Some(Value::String(sig)) = v.get_mut("sig") {
            let last = if sig.ends_with('0') { '1' } else { '0' };
            sig.pop();
            sig.push(last);
        }
        Value::Object(v).to_string().into_bytes()
    }
}

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

/// Parses a kind name; `webhooks` is accepted for `standard-webhooks`.
pub fn parse_kind(name: &str) -> Option<SourceKind> {
    if name == "webhooks" {
        return Some(hookgate_providers::standard_webhooks::KIND);
    }
    hookgate_providers::lookup(name).map(|p| p.kind())
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
    let known = samples::events(kind);
    let events: Vec<String> = if args.event == "all" {
        known.iter().map(|e| (*e).to_owned()).collect()
    } else if kind == hookgate_providers::keeta::KIND {
        // Keeta events by id (1002) or name (order-accepted).
        let id = keeta::event_id(&args.event).with_context(|| unknown_event(kind, &args.event))?;
        vec![keeta::EVENTS
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| (*n).to_owned())
            .unwrap_or_default()]
    } else if known.contains(&args.event.as_str()) || kind == hookgate_providers::standard_webhooks::KIND {
        vec![args.event.clone()]
    } else {
        bail!(unknown_event(kind, &args.event));
    };
    let keys = if kind == hookgate_providers::bh::KIND {
        let pem = std::fs::read_to_string(&args.bh_private_key)
            .with_context(|| format!("reading BH private key {}", args.bh_private_key.display()))?;
        samples::ProviderKeys {
            bh: Some(PrivateKey::from_pkcs8_pem(&pem).map_err(anyhow::Error::msg)?),
        }
    } else {
        samples::ProviderKeys::default()
    };
    let base = args
        .url
        .clone()
        .unwrap_or_else(|| settings.service.http.public_base_url.clone());
    let target = format!("{}/hooks/{}/{}", base.trim_end_matches('/'), tenant.id, source.id);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let now_ms = now.as_millis() as i64;
    // Vary business ids between runs, so a second run is not deduplicated.
    let offset = u64::from(rand::random::<u32>());
    let mut requests = Vec::with_capacity(args.count as usize);
    for seq in 0..args.count {
        let event = &events[(seq as usize) % events.len()];
        let body = samples::body(kind, event, seq + offset, now_ms).with_context(|| unknown_event(kind, event))?;
        let sample = samples::sign(source, body, &keys, now_ms / 1000, &format!("msg_{now_ms}_{seq}"))
            .map_err(anyhow::Error::msg)?;
        requests.push(if args.bad_signature {
            samples::corrupt(kind, sample)
        } else {
            sample
        });
    }
    send_all(&target, requests, args.concurrency, args.duplicate).await
}

fn unknown_event(kind: SourceKind, event: &str) -> String {
    format!(
        "unknown {kind} event {event:?}; known: all, {}",
        samples::events(kind).join(", ")
    )
}

/// Posts every request (twice each with `duplicate`) with bounded concurrency.
pub async fn send_all(
    target: &str,
    requests: Vec<Sample>,
    concurrency: usize,
    duplicate: bool,
) -> anyhow::Result<Report> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
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
