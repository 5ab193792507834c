//! Pagsmile sample notifications: issuing-card (unsigned, its five
//! `notify_type`s), pay-in (every `trade_status`, `Pagsmile-Signature`) and
//! payout (every status, the `Authorization` digest), from seed 002.

use crate::sample::{Sample, SampleContext, SampleError};
use serde_json::{json, Value};

/// Issuing-card sample events.
pub const ISSUING_EVENTS: &[&str] = &[
    "apply-card",
    "card-status",
    "cardholder-audit",
    "authorization",
    "settlement",
    "authorization-expired",
    "otp",
];

/// Pay-in sample events: (name, `trade_status`).
pub const PAYIN_STATUSES: &[(&str, &str)] = &[
    ("success", "SUCCESS"),
    ("cancel", "CANCEL"),
    ("expired", "EXPIRED"),
    ("refused", "REFUSED"),
    ("chargeback", "CHARGEBACK"),
    ("chargeback-reversed", "CHARGEBACK_REVERSED"),
    ("refund-revoke", "REFUND_REVOKE"),
    ("refund-refused", "REFUND_REFUSED"),
    ("refunded", "REFUNDED"),
    ("dispute", "DISPUTE"),
    ("processing", "PROCESSING"),
    ("risk-controlling", "RISK_CONTROLLING"),
    ("refund-verifying", "REFUND_VERIFYING"),
    ("refund-processing", "REFUND_PROCESSING"),
];

/// Pay-in sample events, the names of [`PAYIN_STATUSES`].
pub const PAYIN_EVENTS: &[&str] = &[
    "success",
    "cancel",
    "expired",
    "refused",
    "chargeback",
    "chargeback-reversed",
    "refund-revoke",
    "refund-refused",
    "refunded",
    "dispute",
    "processing",
    "risk-controlling",
    "refund-verifying",
    "refund-processing",
];

/// Payout sample events.
pub const PAYOUT_EVENTS: &[&str] = &["paid", "rejected", "refunded", "partial-refunded"];

/// `yyyy-MM-dd HH:mm:ss` of Unix milliseconds (UTC).
fn pagsmile_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// The unsigned body of issuing-card sample `event`.
pub(super) fn issuing_body(event: &str, seq: u64, now_ms: i64) -> Option<Vec<u8>> {
    let n = seq as i64;
    let value = {
        let request_id = format!("IC{}{:06}", now_ms, seq % 1_000_000);
        let envelope = |notify_type: i64, biz: Value| {
            json!({"biz_data": biz, "notify_type": notify_type, "partner_id": "100000", "sub_partner_id": "100024",
                   "timestamp": pagsmile_time(now_ms), "version": "1.0", "random_key": "", "sign_type": "",
                   "request_id": request_id, "app_id": ""})
        };
        let card = format!("{}", 111_093_279_108i64 + n);
        let auth = |data_type: &str, amount: &str| {
            json!({"auth_id": format!("{}", 100_000_000_058i64 + n), "data_type": data_type, "card_pan": "658704******1102",
                   "card_token": card, "transaction_id": format!("{}", 100_000_091_288i64 + n), "transaction_type": 151,
                   "process_status": 2, "original_auth_id": "", "auth_status": 1, "auth_code": "000000", "response_code": "00",
                   "settle_status": if data_type == "cardSettlement" { 2 } else { 0 }, "mcc_code": "5814",
                   "merchant_id": "100000000000", "merchant_name": "Kopi Corner", "note": "",
                   "transaction_amount": amount, "transaction_currency": "CNY", "transaction_country_code": "CN",
                   "bill_amount": "-1.00", "bill_currency": "USD", "fee": "0.00",
                   "settled_amount": if data_type == "cardSettlement" { "-1.00" } else { "0.00" },
                   "base_exchange_rate": "0.139897", "create_time": pagsmile_time(now_ms)})
        };
        match event {
            "apply-card" => envelope(
                1,
                json!({"order_no": format!("ORD-{now_ms}-{seq}"), "card_token": card,
                "card_pan": "658704******0112", "card_scheme": 3, "card_type": 3, "is_share_card": false,
                "order_count": 1, "order_status": 5, "holder_id": 102_012 + n, "holder_name": "Test User"}),
            ),
            "card-status" => envelope(
                2,
                json!({"card_token": card, "card_pan": "658704******0112",
                "pre_status": 1, "status": 3, "desc": "frozen by cardholder"}),
            ),
            "cardholder-audit" => envelope(
                3,
                json!({"holder_id": 101_224 + n, "pre_status": 4, "status": 2,
                "codes": ["1"], "remark": "document unreadable"}),
            ),
            "authorization" => envelope(4, auth("cardAuthorization", "-7.12")),
            "settlement" => envelope(4, auth("cardSettlement", "-7.12")),
            "authorization-expired" => envelope(4, auth("cardAuthorizationExpired", "-7.12")),
            "otp" => envelope(
                5,
                json!({"validation_value": format!("{:06}", (seq * 7919) % 1_000_000), "card_token": card,
                "card_pan": "658704******0112", "amount": "25.00", "currency": "USD", "created_seconds": now_ms / 1000}),
            ),
            _ => return None,
        }
    };
    Some(value.to_string().into_bytes())
}

/// The unsigned body of pay-in sample `event`.
pub(super) fn payin_body(event: &str, seq: u64, now_ms: i64) -> Option<Vec<u8>> {
    let n = seq as i64;
    let value = {
        let status = PAYIN_STATUSES.iter().find(|(name, _)| *name == event)?.1;
        let refund = if status.starts_with("REFUND") {
            format!("R-{seq}")
        } else {
            String::new()
        };
        json!({"amount": "12.01", "out_trade_no": format!("{}{:06}", now_ms, seq % 1_000_000), "method": "Pix", "channel": "",
               "trade_status": status, "trade_no": format!("20220222{:011}", n), "currency": "BRL", "out_request_no": refund,
               "app_id": "162000000000038", "timestamp": (now_ms / 1000).to_string(),
               "user": {"buyer_id": "", "identify": {"type": "CPF", "number": "50284414727"}, "username": "test user name",
                        "phone": "75991435892", "email": "test@pagsmile.com", "ip": ""}})
    };
    Some(value.to_string().into_bytes())
}

/// The unsigned body of payout sample `event`.
pub(super) fn payout_body(event: &str, seq: u64, now_ms: i64) -> Option<Vec<u8>> {
    let n = seq as i64;
    let value = {
        let status = match event {
            "paid" => "PAID",
            "rejected" => "REJECTED",
            "refunded" => "REFUNDED",
            "partial-refunded" => "PARTIAL_REFUNDED",
            _ => return None,
        };
        json!({"payoutId": format!("PO{now_ms}{seq:06}"), "custom_code": format!("{}", 1_234_567 + n),
               "status": status, "msg": if status == "REJECTED" { "invalid account" } else { "" }, "timestamp": now_ms / 1000})
    };
    Some(value.to_string().into_bytes())
}

/// Signs a pay-in sample: `Pagsmile-Signature: t=<secs>, v2=<hex>`.
pub(super) fn sign_payin(
    settings: &super::PayinSettings,
    body: Vec<u8>,
    ctx: &SampleContext<'_>,
) -> Result<Sample, SampleError> {
    let secret = settings.secrets.first().ok_or(SampleError::NoSecret)?;
    let signature = super::signature::payin_sign(&body, secret.expose());
    Ok(Sample::unsigned(body).with_header("pagsmile-signature", format!("t={}, v2={signature}", ctx.now_secs)))
}

/// Signs a payout sample: `Authorization`, the digest of its sorted parameters.
pub(super) fn sign_payout(
    settings: &super::PayoutSettings,
    body: Vec<u8>,
    _ctx: &SampleContext<'_>,
) -> Result<Sample, SampleError> {
    let key = settings.app_keys.first().ok_or(SampleError::NoSecret)?;
    let params = super::signature::payout_params(&body).map_err(|e| SampleError::Body(e.to_string()))?;
    let signature = super::signature::payout_sign(&params, key.expose());
    Ok(Sample::unsigned(body).with_header("authorization", signature))
}

/// Issuing-card notifications are not signed by Pagsmile: a sample breaks
/// the source's access credentials instead.
pub(super) fn corrupt_access(mut sample: Sample) -> Sample {
    for (name, value) in sample.headers.iter_mut() {
        if name.eq_ignore_ascii_case("authorization") {
            *value = "Basic d3Jvbmc6d3Jvbmc=".to_owned();
        } else {
            crate::sample::flip_last(value, false);
        }
    }
    sample
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payin_event_names_follow_the_status_table() {
        let names: Vec<_> = PAYIN_STATUSES.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, PAYIN_EVENTS);
    }
}
