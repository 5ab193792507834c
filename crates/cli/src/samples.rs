//! Provider-faithful sample requests for every source kind: realistic bodies
//! (from the providers' documented examples) and the signature each provider
//! would send, made with the source's configured credentials. `simulate` and
//! the tests send these same bytes.

use crate::simulate::keeta;
use hookgate_config::Source;
use hookgate_core::SourceKind;
use hookgate_providers::bh::signature::PrivateKey;
use hookgate_providers::{
    keeta_auth::signature as keeta_auth, pagsmile::signature as pagsmile,
    standard_webhooks::signature as standard_webhooks,
};
use hookgate_signature::encode_base64;
use serde_json::{json, Value};

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Body bytes.
    pub body: Vec<u8>,
    /// Headers to send besides `content-type: application/json`.
    pub headers: Vec<(String, String)>,
}

/// Event names `simulate` accepts per kind (besides `all`).
pub fn events(kind: SourceKind) -> Vec<&'static str> {
    match kind {
        hookgate_providers::keeta::KIND => keeta::EVENTS.iter().map(|(_, n)| *n).collect(),
        hookgate_providers::keeta_auth::KIND => vec!["authorized", "cancelled"],
        hookgate_providers::pagsmile::ISSUING => vec![
            "apply-card",
            "card-status",
            "cardholder-audit",
            "authorization",
            "settlement",
            "authorization-expired",
            "otp",
        ],
        hookgate_providers::pagsmile::PAYIN => PAYIN_STATUSES.iter().map(|(n, _)| *n).collect(),
        hookgate_providers::pagsmile::PAYOUT => vec!["paid", "rejected", "refunded", "partial-refunded"],
        hookgate_providers::bh::KIND => vec![
            "order",
            "global-payment",
            "funding",
            "stablecoin-payment",
            "withdraw",
            "merchant-trade",
        ],
        hookgate_providers::standard_webhooks::KIND => {
            vec!["invoice.paid", "customer.created", "subscription.cancelled"]
        }
        _ => Vec::new(),
    }
}

const PAYIN_STATUSES: &[(&str, &str)] = &[
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

/// `yyyy-MM-dd HH:mm:ss` of Unix milliseconds (UTC).
fn pagsmile_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// The unsigned body of `event` for `kind`; `seq` varies ids, `now_ms` times.
/// `None` for an event name the kind does not know.
pub fn body(kind: SourceKind, event: &str, seq: u64, now_ms: i64) -> Option<Vec<u8>> {
    let n = seq as i64;
    let value = match kind {
        hookgate_providers::keeta::KIND => {
            let id = keeta::event_id(event)?;
            let message = keeta::message(id, seq, 145_541, now_ms);
            let message_id = format!("{now_ms}{seq:08}");
            keeta::envelope(1_000_001, id, &message_id, 145_541, &message, now_ms / 1000).into()
        }
        hookgate_providers::keeta_auth::KIND => {
            let op = match event {
                "authorized" => 1,
                "cancelled" => 2,
                _ => return None,
            };
            json!({"clientId": 2_666_245_991u64, "authId": format!("{}", 41_008 + n), "opType": op,
                   "shopId": 478_268 + n, "shopName": "10 Shanghai", "createTime": now_ms})
        }
        hookgate_providers::pagsmile::ISSUING => {
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
        }
        hookgate_providers::pagsmile::PAYIN => {
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
        }
        hookgate_providers::pagsmile::PAYOUT => {
            let status = match event {
                "paid" => "PAID",
                "rejected" => "REJECTED",
                "refunded" => "REFUNDED",
                "partial-refunded" => "PARTIAL_REFUNDED",
                _ => return None,
            };
            json!({"payoutId": format!("PO{now_ms}{seq:06}"), "custom_code": format!("{}", 1_234_567 + n),
                   "status": status, "msg": if status == "REJECTED" { "invalid account" } else { "" }, "timestamp": now_ms / 1000})
        }
        hookgate_providers::bh::KIND => {
            let order_id = format!("{}", 473_130_522_693_193_728i64 + n);
            let webhook = "ebab8a9663704e7cbbebe672c7c67912";
            match event {
                "order" => json!({"webhookId": webhook, "eventType": "ORDER_WEBHOOK", "orderId": order_id,
                    "clientId": format!("W{seq}"), "userId": "455472", "merchantId": 4, "orderType": "SELL", "fiat": "MXN",
                    "fiatAmount": "99", "fiatFee": "0", "crypto": "USDT", "cryptoAmount": "5.00", "orderPrice": "19.8158",
                    "orderStatus": "60", "failCode": "", "failReason": "", "createTime": (now_ms - 60_000).to_string(),
                    "updateTime": now_ms.to_string()}),
                "global-payment" => {
                    json!({"webhookId": webhook, "eventType": "GLOBAL_PAYMENT_WEBHOOK", "orderId": order_id,
                    "clientId": format!("G{seq}"), "userId": "455472", "onRampCountry": "MX", "onRampMerchantId": 4,
                    "onRampFiat": "MXN", "onRampFiatAmount": "100.00", "onRampFiatFee": "1.00", "offRampCountry": "US",
                    "offRampMerchantId": 7, "offRampFiat": "USD", "offRampFiatAmount": "18.00", "offRampFiatFee": "0.50",
                    "orderPrice": "0.18", "orderStatus": "60", "createTime": (now_ms - 60_000).to_string(),
                    "updateTime": now_ms.to_string()})
                }
                "funding" => {
                    json!({"webhookId": webhook, "eventType": "FUNDING_WEBHOOK", "txId": format!("T{now_ms}{seq:06}"),
                    "clientId": format!("F{seq}"), "merchantId": "4", "merchantName": "Demo MX", "fiat": "MXN",
                    "totalAmount": "1000.00", "amount": "995.00", "fee": "5.00", "paymentId": "P1", "userPaymentId": "UP1",
                    "type": "DEPOSIT", "status": "2", "createTime": (now_ms - 60_000).to_string(),
                    "updateTime": now_ms.to_string(), "cardNo": "", "taxId": "", "payerName": "Juan Perez",
                    "payerAccount": "012180001234567891", "depositAlias": "",
                    "bankWebhookInfo": "{\"sender_account_number\":\"012180001234567891\",\"tracking_id\":\"TRK123\"}",
                    "failCode": "", "failReason": ""})
                }
                "stablecoin-payment" => {
                    // This payload uses JSON numbers for ids and amounts (as BH's example does).
                    let text = format!(
                        r#"{{"webhookId":"{webhook}","eventType":"STABLE_COIN_PAYMENT_WEBHOOK","orderId":{order_id},"userId":455472,"merchantId":4,"linkId":"L1","walletId":"W1","walletName":"Main","referenceId":"INV-{seq}","currency":"USDT","network":"TRON","networkName":"Tron","depositAmount":1000.00,"feeAmount":1.50,"receivedAmount":998.50,"status":"CONFIRMED","fromAddress":"TXa","toAddress":"TXb","txHash":"0x{seq:x}","paymentLink":"https://pay.example/L1","createTime":{c},"cancelTime":0,"processTime":{now_ms},"confirmTime":{now_ms}}}"#,
                        c = now_ms - 60_000
                    );
                    return Some(text.into_bytes());
                }
                "withdraw" => {
                    json!({"webhookId": webhook, "eventType": "ON_RAMP_WITHDRAW_WEBHOOK", "orderId": order_id,
                    "clientId": format!("C{seq}"), "crypto": "USDT", "amount": "50.25", "network": "TRON", "address": "TXb",
                    "txHash": format!("0x{seq:x}"), "status": "succeeded", "reason": "", "timestamp": now_ms})
                }
                "merchant-trade" => json!({"webhookId": webhook, "eventType": "MERCHANT_TRADE_WEBHOOK",
                    "tradeNo": format!("MT-{now_ms}-{seq}"), "amount": "10.00"}),
                _ => return None,
            }
        }
        hookgate_providers::standard_webhooks::KIND => {
            let prefix = event.split('.').next().unwrap_or("object");
            json!({"type": event, "timestamp": chrono::DateTime::from_timestamp_millis(now_ms).map(|t| t.to_rfc3339()),
                   "data": {"id": format!("{prefix}_{seq}"), "amount": "10.00"}})
        }
        _ => return None,
    };
    Some(value.to_string().into_bytes())
}

/// Credentials a simulator holds that the gateway does not (BH signs with its private key).
#[derive(Debug, Clone, Default)]
pub struct ProviderKeys {
    /// BH's private key.
    pub bh: Option<PrivateKey>,
}

/// Signs `body` as the provider of `source` would, with its configured credentials.
pub fn sign(
    source: &Source,
    body: Vec<u8>,
    keys: &ProviderKeys,
    now_secs: i64,
    delivery_id: &str,
) -> Result<Sample, String> {
    let mut headers = Vec::new();
    // Access controls the source requires (basic auth, header token).
    if let Some(basic) = &source.access.basic_auth {
        let creds = encode_base64(format!("{}:{}", basic.username, basic.password.expose()).as_bytes());
        headers.push(("authorization".to_owned(), format!("Basic {creds}")));
    }
    if let Some(token) = &source.access.token {
        headers.push((token.header.clone(), token.value.expose().to_owned()));
    }
    let first = |v: &[hookgate_config::Secret]| v.first().map(|s| s.expose().to_owned()).ok_or("no secret configured");
    let settings = &source.settings;
    if let Some(cfg) = settings.downcast::<hookgate_providers::keeta::Settings>() {
        let mut env: serde_json::Map<String, Value> = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        if let Some(app_id) = cfg.app_id {
            env.insert("appId".into(), json!(app_id));
        }
        let body = keeta::signed_body(env, &cfg.callback_url, &first(&cfg.app_secrets)?);
        return Ok(Sample { body, headers });
    } else if let Some(cfg) = settings.downcast::<hookgate_providers::keeta_auth::Settings>() {
        headers.push((
            "x-app-signature".into(),
            keeta_auth::sign(&body, &first(&cfg.client_secrets)?),
        ));
    } else if let Some(cfg) = settings.downcast::<hookgate_providers::pagsmile::PayinSettings>() {
        let sig = pagsmile::payin_sign(&body, &first(&cfg.secrets)?);
        headers.push(("pagsmile-signature".into(), format!("t={now_secs}, v2={sig}")));
    } else if let Some(cfg) = settings.downcast::<hookgate_providers::pagsmile::PayoutSettings>() {
        let params = pagsmile::payout_params(&body).map_err(|e| e.to_string())?;
        headers.push((
            "authorization".into(),
            pagsmile::payout_sign(&params, &first(&cfg.app_keys)?),
        ));
    } else if settings.downcast::<hookgate_providers::bh::Settings>().is_some() {
        let key = keys.bh.as_ref().ok_or("BH needs its private key (--bh-private-key)")?;
        headers.push(("signature".into(), key.sign_hex(&body)));
    } else if let Some(cfg) = settings.downcast::<hookgate_providers::standard_webhooks::Settings>() {
        let key = cfg.keys.first().ok_or("no secret configured")?;
        headers.push(("webhook-id".into(), delivery_id.to_owned()));
        headers.push(("webhook-timestamp".into(), now_secs.to_string()));
        headers.push((
            "webhook-signature".into(),
            standard_webhooks::sign(key.expose(), delivery_id, now_secs, &body),
        ));
    }
    Ok(Sample { body, headers })
}

/// Breaks the provider signature of a signed sample (for `--bad-signature`).
pub fn corrupt(kind: SourceKind, mut sample: Sample) -> Sample {
    fn flip(s: &mut String) {
        let last = s.pop().unwrap_or('0');
        s.push(if last == 'A' || last == '0' { 'B' } else { 'A' });
    }
    let header = match kind {
        hookgate_providers::keeta::KIND => {
            sample.body = keeta::corrupt_signature(&sample.body);
            return sample;
        }
        hookgate_providers::keeta_auth::KIND => "x-app-signature",
        hookgate_providers::pagsmile::PAYIN => "pagsmile-signature",
        hookgate_providers::pagsmile::PAYOUT => "authorization",
        hookgate_providers::bh::KIND => "signature",
        hookgate_providers::standard_webhooks::KIND => "webhook-signature",
        // Unsigned by the provider: corrupt the access credentials instead.
        hookgate_providers::pagsmile::ISSUING => {
            for (name, value) in sample.headers.iter_mut() {
                if name == "authorization" {
                    *value = "Basic d3Jvbmc6d3Jvbmc=".to_owned();
                } else {
                    flip(value);
                }
            }
            return sample;
        }
        _ => return sample,
    };
    if let Some((_, value)) = sample.headers.iter_mut().find(|(n, _)| n == header) {
        if kind == hookgate_providers::bh::KIND || kind == hookgate_providers::pagsmile::PAYOUT {
            // Hex: flip the last digit to another hex digit.
            let last = value.pop().unwrap_or('0');
            value.push(if last == '0' { '1' } else { '0' });
        } else {
            flip(value);
        }
    }
    sample
}
