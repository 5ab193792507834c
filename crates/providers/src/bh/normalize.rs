//! BH (VelaFi / TruBit) pushes (PROVIDERS.md §3, seeds 003/004): one JSON
//! object with `eventType`. There is no per-delivery id, so delivery and
//! idempotency keys are business keys; amounts arrive as strings or numbers
//! and are kept as exact decimals.

use crate::inspect::{delivery_key_or_hash, Keys};
use crate::value::{Decimal, Int, Text};
use crate::{body_hash, money_from_decimal, parse_lenient, raw_body, Input, Mapped, NormalizeError};
use hookgate_proto::v1::{self, event::Data};
use hookgate_proto::{timestamp_from_millis, CanonicalEvent};
use serde::Deserialize;
use std::collections::HashMap;

/// Provider name: first segment of routing keys.
pub const PROVIDER: &str = "bh";

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Body {
    event_type: Option<String>,
    order_id: Option<Text>,
    tx_id: Option<Text>,
    order_status: Option<Text>,
    status: Option<Text>,
    update_time: Option<Text>,
}

fn text(t: &Option<Text>) -> Option<&str> {
    t.as_ref().map(|t| t.0.as_str()).filter(|s| !s.is_empty())
}

/// (event type, business id, status) of a push; `None` for payloads without them.
fn business(b: &Body) -> Option<(&str, &str, &str)> {
    let event = b.event_type.as_deref()?;
    let (id, status) = match event {
        "ORDER_WEBHOOK" | "GLOBAL_PAYMENT_WEBHOOK" => (text(&b.order_id)?, text(&b.order_status)?),
        "FUNDING_WEBHOOK" => (text(&b.tx_id)?, text(&b.status)?),
        "STABLE_COIN_PAYMENT_WEBHOOK" | "ON_RAMP_WITHDRAW_WEBHOOK" => (text(&b.order_id)?, text(&b.status)?),
        _ => return None,
    };
    Some((event, id, status))
}

/// `eventType:id:status[:updateTime]`; SHA-256 of the body when the payload
/// has no business key (e.g. MERCHANT_TRADE_WEBHOOK).
fn delivery_key_of(b: &Body, body: &[u8]) -> Result<String, NormalizeError> {
    if b.event_type.as_deref().is_none_or(str::is_empty) {
        return Err(NormalizeError::MissingField("eventType"));
    }
    Ok(match business(b) {
        Some((event, id, status)) => match text(&b.update_time) {
            Some(t) => format!("{event}:{id}:{status}:{t}"),
            None => format!("{event}:{id}:{status}"),
        },
        None => body_hash(body),
    })
}

/// The subject of a push (`ramp-order/<orderId>`, ...); `message/<delivery
/// key>` for a push without an id. `None` for a typed push without an id or
/// a status (normalization refuses it). The one definition normalization
/// and ingress share.
fn subject_of(b: &Body, delivery_key: &str) -> Option<String> {
    let id = text(&b.order_id).or(text(&b.tx_id)).unwrap_or_default();
    let status = text(&b.order_status).or(text(&b.status)).unwrap_or_default();
    let prefix = match b.event_type.as_deref().unwrap_or_default() {
        "ORDER_WEBHOOK" => "ramp-order",
        "GLOBAL_PAYMENT_WEBHOOK" => "global-payment",
        "FUNDING_WEBHOOK" => "funding",
        "STABLE_COIN_PAYMENT_WEBHOOK" => "stablecoin-payment",
        "ON_RAMP_WITHDRAW_WEBHOOK" => "withdrawal",
        "MERCHANT_TRADE_WEBHOOK" if !id.is_empty() => return Some(format!("merchant-trade/{id}")),
        _ => return Some(format!("message/{delivery_key}")),
    };
    (!id.is_empty() && !status.is_empty()).then(|| format!("{prefix}/{id}"))
}

/// The delivery key and subject of a push, from one parse of its body.
pub fn keys(body: &[u8]) -> Result<Keys, NormalizeError> {
    let b: Body = parse_lenient(body)?;
    let delivery_key = delivery_key_or_hash(delivery_key_of(&b, body)?, body);
    let subject = subject_of(&b, delivery_key.as_str());
    Ok(Keys { delivery_key, subject })
}

fn ramp_status(code: &str) -> &'static str {
    match code {
        "10" => "reviewing",
        "11" => "rfi_requested",
        "12" => "rfi_uploaded",
        "30" => "approved",
        "31" => "support_docs_pending",
        "40" => "pending_payment",
        "50" => "paid",
        "60" => "released",
        "70" => "canceled",
        "72" => "refunded",
        "73" => "refunding",
        _ => "unknown",
    }
}

fn global_status(code: &str) -> &'static str {
    match code {
        "10" => "pending",
        "11" => "rfi_requested",
        "12" => "rfi_uploaded",
        "30" => "approved",
        "31" => "support_docs_pending",
        "41" => "payin_pending",
        "51" => "payout_pending",
        "60" => "released",
        "71" => "payin_canceled",
        "72" => "payout_canceled",
        _ => "unknown",
    }
}

fn funding_status(code: &str) -> &'static str {
    match code {
        "1" => "pending",
        "2" => "completed",
        "3" => "canceled",
        "4" => "refunded",
        _ => "unknown",
    }
}

fn money(amount: Option<Decimal>, currency: &Option<String>) -> Option<v1::Money> {
    amount.map(|a| money_from_decimal(&a.0, currency.as_deref().unwrap_or("")))
}

fn ms(t: Option<Int>) -> Option<hookgate_proto::Timestamp> {
    t.filter(|t| t.0 > 0).and_then(|t| timestamp_from_millis(t.0))
}

fn s(t: Option<Text>) -> Option<String> {
    t.map(|t| t.0).filter(|s| !s.is_empty())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Order {
    client_id: Option<Text>,
    user_id: Option<Text>,
    merchant_id: Option<Text>,
    order_type: Option<String>,
    fiat: Option<String>,
    #[serde(alias = "orderAmount")]
    fiat_amount: Option<Decimal>,
    fiat_fee: Option<Decimal>,
    crypto: Option<String>,
    #[serde(alias = "quantity")]
    crypto_amount: Option<Decimal>,
    order_price: Option<Decimal>,
    fail_code: Option<Text>,
    fail_reason: Option<String>,
    create_time: Option<Int>,
    update_time: Option<Int>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Global {
    client_id: Option<Text>,
    user_id: Option<Text>,
    on_ramp_country: Option<String>,
    on_ramp_fiat: Option<String>,
    on_ramp_fiat_amount: Option<Decimal>,
    on_ramp_fiat_fee: Option<Decimal>,
    off_ramp_country: Option<String>,
    off_ramp_fiat: Option<String>,
    off_ramp_fiat_amount: Option<Decimal>,
    off_ramp_fiat_fee: Option<Decimal>,
    order_price: Option<Decimal>,
    create_time: Option<Int>,
    update_time: Option<Int>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FundingBody {
    client_id: Option<Text>,
    merchant_id: Option<Text>,
    merchant_name: Option<String>,
    fiat: Option<String>,
    total_amount: Option<Decimal>,
    amount: Option<Decimal>,
    fee: Option<Decimal>,
    payment_id: Option<Text>,
    user_payment_id: Option<Text>,
    #[serde(rename = "type")]
    kind: Option<String>,
    payer_name: Option<String>,
    payer_account: Option<Text>,
    bank_webhook_info: Option<String>,
    fail_code: Option<Text>,
    fail_reason: Option<String>,
    create_time: Option<Int>,
    update_time: Option<Int>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stablecoin {
    user_id: Option<Text>,
    merchant_id: Option<Text>,
    link_id: Option<Text>,
    wallet_id: Option<Text>,
    reference_id: Option<Text>,
    currency: Option<String>,
    network: Option<String>,
    deposit_amount: Option<Decimal>,
    fee_amount: Option<Decimal>,
    received_amount: Option<Decimal>,
    from_address: Option<String>,
    to_address: Option<String>,
    tx_hash: Option<String>,
    create_time: Option<Int>,
    confirm_time: Option<Int>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Withdraw {
    client_id: Option<Text>,
    crypto: Option<String>,
    amount: Option<Decimal>,
    network: Option<String>,
    address: Option<String>,
    tx_hash: Option<String>,
    reason: Option<String>,
    timestamp: Option<Int>,
}

fn payload<T: serde::de::DeserializeOwned>(body: &[u8], event: &str) -> Result<T, NormalizeError> {
    let text = std::str::from_utf8(body).map_err(NormalizeError::not_json)?;
    crate::lenient::parse(text).map_err(|e| NormalizeError::payload(event.to_owned(), e))
}

/// `bankWebhookInfo` is a JSON object encoded in a string; flatten its values to strings.
fn bank_info(encoded: Option<&str>) -> HashMap<String, String> {
    let Some(text) = encoded.filter(|t| !t.trim().is_empty()) else {
        return HashMap::new();
    };
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text) {
        Ok(map) => map
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect(),
        Err(_) => HashMap::from([("raw".to_owned(), text.to_owned())]),
    }
}

/// Maps a BH push by `eventType`.
pub fn normalize(input: &Input<'_>) -> Result<Vec<CanonicalEvent>, NormalizeError> {
    let b: Body = parse_lenient(input.body)?;
    let event = b.event_type.clone().unwrap_or_default();
    let key = business(&b).map(|(e, id, st)| format!("bh:{e}:{id}:{st}"));
    let id = text(&b.order_id).or(text(&b.tx_id)).unwrap_or_default().to_owned();
    let status = text(&b.order_status).or(text(&b.status)).unwrap_or_default().to_owned();
    let hash_key = || format!("bh:{event}:{}", body_hash(input.body));
    let subject = subject_of(&b, input.delivery_key).unwrap_or_default();
    let (kind, subject, occurred_at, data) = match event.as_str() {
        "ORDER_WEBHOOK" => {
            let o: Order = payload(input.body, &event)?;
            let data = Data::RampOrder(v1::RampOrder {
                order_id: id.clone(),
                client_id: s(o.client_id),
                user_id: s(o.user_id),
                merchant_id: s(o.merchant_id),
                order_type: o.order_type.unwrap_or_default(),
                fiat_amount: money(o.fiat_amount, &o.fiat),
                fiat_fee: money(o.fiat_fee, &o.fiat),
                crypto_amount: money(o.crypto_amount, &o.crypto),
                price: o.order_price.map(|p| p.0),
                status_name: ramp_status(&status).to_owned(),
                status: status.clone(),
                fail_code: s(o.fail_code),
                fail_reason: o.fail_reason.filter(|r| !r.is_empty()),
                created_at: ms(o.create_time),
                updated_at: ms(o.update_time),
            });
            ("ramp_order.status_changed", subject, ms(o.update_time), data)
        }
        "GLOBAL_PAYMENT_WEBHOOK" => {
            let g: Global = payload(input.body, &event)?;
            let data = Data::GlobalPayment(v1::GlobalPayment {
                order_id: id.clone(),
                client_id: s(g.client_id),
                user_id: s(g.user_id),
                on_ramp_country: g.on_ramp_country,
                on_ramp_amount: money(g.on_ramp_fiat_amount, &g.on_ramp_fiat),
                on_ramp_fee: money(g.on_ramp_fiat_fee, &g.on_ramp_fiat),
                off_ramp_country: g.off_ramp_country,
                off_ramp_amount: money(g.off_ramp_fiat_amount, &g.off_ramp_fiat),
                off_ramp_fee: money(g.off_ramp_fiat_fee, &g.off_ramp_fiat),
                price: g.order_price.map(|p| p.0),
                status_name: global_status(&status).to_owned(),
                status: status.clone(),
                created_at: ms(g.create_time),
                updated_at: ms(g.update_time),
            });
            ("global_payment.status_changed", subject, ms(g.update_time), data)
        }
        "FUNDING_WEBHOOK" => {
            let f: FundingBody = payload(input.body, &event)?;
            let data = Data::Funding(v1::Funding {
                tx_id: id.clone(),
                client_id: s(f.client_id),
                merchant_id: s(f.merchant_id),
                merchant_name: f.merchant_name,
                r#type: f.kind.unwrap_or_default(),
                status_name: funding_status(&status).to_owned(),
                status: status.clone(),
                amount: money(f.amount, &f.fiat),
                total_amount: money(f.total_amount, &f.fiat),
                fee: money(f.fee, &f.fiat),
                payment_id: s(f.payment_id),
                user_payment_id: s(f.user_payment_id),
                payer_name: f.payer_name.filter(|p| !p.is_empty()),
                payer_account: s(f.payer_account),
                fail_code: s(f.fail_code),
                fail_reason: f.fail_reason.filter(|r| !r.is_empty()),
                bank_info: bank_info(f.bank_webhook_info.as_deref()),
                created_at: ms(f.create_time),
                updated_at: ms(f.update_time),
            });
            ("funding.status_changed", subject, ms(f.update_time), data)
        }
        "STABLE_COIN_PAYMENT_WEBHOOK" => {
            let p: Stablecoin = payload(input.body, &event)?;
            let data = Data::StablecoinPayment(v1::StablecoinPayment {
                order_id: id.clone(),
                user_id: s(p.user_id),
                merchant_id: s(p.merchant_id),
                link_id: s(p.link_id),
                wallet_id: s(p.wallet_id),
                reference_id: s(p.reference_id),
                network: p.network,
                deposit_amount: money(p.deposit_amount, &p.currency),
                fee_amount: money(p.fee_amount, &p.currency),
                received_amount: money(p.received_amount, &p.currency),
                status: status.clone(),
                from_address: p.from_address,
                to_address: p.to_address,
                tx_hash: p.tx_hash,
                created_at: ms(p.create_time),
                confirmed_at: ms(p.confirm_time),
            });
            (
                "stablecoin_payment.status_changed",
                subject,
                ms(p.confirm_time).or(ms(p.create_time)),
                data,
            )
        }
        "ON_RAMP_WITHDRAW_WEBHOOK" => {
            let w: Withdraw = payload(input.body, &event)?;
            let data = Data::Withdrawal(v1::Withdrawal {
                order_id: id.clone(),
                client_id: s(w.client_id),
                amount: money(w.amount, &w.crypto),
                network: w.network,
                address: w.address,
                tx_hash: w.tx_hash,
                status: status.clone(),
                reason: w.reason.filter(|r| !r.is_empty()),
                time: ms(w.timestamp),
            });
            ("withdrawal.status_changed", subject, ms(w.timestamp), data)
        }
        "MERCHANT_TRADE_WEBHOOK" => {
            // No payload is documented (PROVIDERS.md open question 23): carried raw.
            let mapped = Mapped {
                kind: "merchant_trade.received".into(),
                provider_event_type: event.clone(),
                subject,
                idempotency_key: key.unwrap_or_else(hash_key),
                occurred_at: None,
                data: None,
            };
            return Ok(vec![mapped.into_event(input, PROVIDER, 0, raw_body(input.body)?)]);
        }
        _ => {
            let mapped = Mapped {
                kind: "unknown".into(),
                provider_event_type: event.clone(),
                subject,
                idempotency_key: hash_key(),
                occurred_at: None,
                data: None,
            };
            return Ok(vec![mapped.into_event(input, PROVIDER, 0, raw_body(input.body)?)]);
        }
    };
    if id.is_empty() || status.is_empty() {
        return Err(NormalizeError::payload(event, "missing id or status"));
    }
    let mapped = Mapped {
        kind: kind.to_owned(),
        provider_event_type: event.clone(),
        subject,
        idempotency_key: key.unwrap_or_else(hash_key),
        occurred_at,
        data: Some(data),
    };
    Ok(vec![mapped.into_event(input, PROVIDER, 0, raw_body(input.body)?)])
}
