//! `hookgate simulate`: provider-faithful signed webhooks. The payload
//! builders here are also what the tests send (through the test kit), so the
//! tour and the tests exercise the same bytes.

use anyhow::{bail, Context};
use hookgate_config::{Settings, SourceAuth};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Keeta general webhooks: payload builders and signing.
pub mod keeta {
    use super::*;
    use hookgate_signature::keeta::{sign, Params};

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
    /// Provider kind: keeta.
    pub kind: String,
    /// Event id or name (e.g. 1002 or order-accepted), or `all`.
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

/// Sends signed webhooks as configured for the tenant's source.
pub async fn run(settings: &Settings, args: &SimulateArgs) -> anyhow::Result<Report> {
    if args.kind != "keeta" {
        bail!("unknown kind {:?}; supported: keeta", args.kind);
    }
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
            .find(|s| s.kind.as_str() == args.kind)
            .with_context(|| format!("tenant {} has no {} source", tenant.id, args.kind))?,
    };
    let SourceAuth::Keeta(cfg) = &source.auth;
    let secret = cfg
        .app_secrets
        .first()
        .context("source has no secret")?
        .expose()
        .to_owned();
    let events: Vec<i64> = if args.event == "all" {
        keeta::EVENTS.iter().map(|(id, _)| *id).collect()
    } else {
        vec![keeta::event_id(&args.event).with_context(|| {
            let names: Vec<_> = keeta::EVENTS.iter().map(|(id, n)| format!("{id}/{n}")).collect();
            format!("unknown Keeta event {:?}; known: all, {}", args.event, names.join(", "))
        })?]
    };
    let base = args
        .url
        .clone()
        .unwrap_or_else(|| settings.service.http.public_base_url.clone());
    let target = format!("{}/hooks/{}/{}", base.trim_end_matches('/'), tenant.id, source.id);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let now_ms = now.as_millis() as i64;
    let run_id: u32 = rand::random();
    let bodies: Vec<Vec<u8>> = (0..args.count)
        .map(|seq| {
            let event = events[(seq as usize) % events.len()];
            let shop_id = 145_541;
            let message = keeta::message(event, seq + u64::from(run_id), shop_id, now_ms);
            let message_id = format!("{now_ms}{run_id:010}{seq:06}");
            let env = keeta::envelope(
                cfg.app_id.unwrap_or(0),
                event,
                &message_id,
                shop_id,
                &message,
                now_ms / 1000,
            );
            let body = keeta::signed_body(env, &cfg.callback_url, &secret);
            if args.bad_signature {
                keeta::corrupt_signature(&body)
            } else {
                body
            }
        })
        .collect();
    send_all(&target, bodies, args.concurrency, args.duplicate).await
}

/// Posts every body (twice each with `duplicate`) with bounded concurrency.
pub async fn send_all(
    target: &str,
    bodies: Vec<Vec<u8>>,
    concurrency: usize,
    duplicate: bool,
) -> anyhow::Result<Report> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicU64::new(0));
    let total = bodies.len() as u64 * if duplicate { 2 } else { 1 };
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, bodies, next, target) = (client.clone(), bodies.clone(), next.clone(), target.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut report = Report::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let body = bodies[(i % bodies.len() as u64) as usize].clone();
                report.sent += 1;
                match client
                    .post(&target)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                {
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
