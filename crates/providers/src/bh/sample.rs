//! BH (VelaFi / TruBit) sample pushes, one per webhook type of seed 003,
//! signed with BH's RSA private key (which the gateway never holds: the
//! simulator passes it in [`SampleContext::private_key`]).

use crate::sample::{Sample, SampleContext, SampleError};
use serde_json::json;

/// Event names of the samples.
pub const EVENTS: &[&str] = &[
    "order",
    "global-payment",
    "funding",
    "stablecoin-payment",
    "withdraw",
    "merchant-trade",
];

/// The unsigned body of sample `event`.
pub(super) fn body(event: &str, seq: u64, now_ms: i64) -> Option<Vec<u8>> {
    let n = seq as i64;
    let order_id = format!("{}", 473_130_522_693_193_728i64 + n);
    let webhook = "ebab8a9663704e7cbbebe672c7c67912";
    let value = match event {
        "order" => json!({"webhookId": webhook, "eventType": "ORDER_WEBHOOK", "orderId": order_id,
            "clientId": format!("W{seq}"), "userId": "455472", "merchantId": 4, "orderType": "SELL", "fiat": "MXN",
            "fiatAmount": "99", "fiatFee": "0", "crypto": "USDT", "cryptoAmount": "5.00", "orderPrice": "19.8158",
            "orderStatus": "60", "failCode": "", "failReason": "", "createTime": (now_ms - 60_000).to_string(),
            "updateTime": now_ms.to_string()}),
        "global-payment" => json!({"webhookId": webhook, "eventType": "GLOBAL_PAYMENT_WEBHOOK", "orderId": order_id,
            "clientId": format!("G{seq}"), "userId": "455472", "onRampCountry": "MX", "onRampMerchantId": 4,
            "onRampFiat": "MXN", "onRampFiatAmount": "100.00", "onRampFiatFee": "1.00", "offRampCountry": "US",
            "offRampMerchantId": 7, "offRampFiat": "USD", "offRampFiatAmount": "18.00", "offRampFiatFee": "0.50",
            "orderPrice": "0.18", "orderStatus": "60", "createTime": (now_ms - 60_000).to_string(),
            "updateTime": now_ms.to_string()}),
        "funding" => json!({"webhookId": webhook, "eventType": "FUNDING_WEBHOOK", "txId": format!("T{now_ms}{seq:06}"),
            "clientId": format!("F{seq}"), "merchantId": "4", "merchantName": "Demo MX", "fiat": "MXN",
            "totalAmount": "1000.00", "amount": "995.00", "fee": "5.00", "paymentId": "P1", "userPaymentId": "UP1",
            "type": "DEPOSIT", "status": "2", "createTime": (now_ms - 60_000).to_string(),
            "updateTime": now_ms.to_string(), "cardNo": "", "taxId": "", "payerName": "Juan Perez",
            "payerAccount": "012180001234567891", "depositAlias": "",
            "bankWebhookInfo": "{\"sender_account_number\":\"012180001234567891\",\"tracking_id\":\"TRK123\"}",
            "failCode": "", "failReason": ""}),
        "stablecoin-payment" => {
            // This payload uses JSON numbers for ids and amounts (as BH's example does).
            let text = format!(
                r#"{{"webhookId":"{webhook}","eventType":"STABLE_COIN_PAYMENT_WEBHOOK","orderId":{order_id},"userId":455472,"merchantId":4,"linkId":"L1","walletId":"W1","walletName":"Main","referenceId":"INV-{seq}","currency":"USDT","network":"TRON","networkName":"Tron","depositAmount":1000.00,"feeAmount":1.50,"receivedAmount":998.50,"status":"CONFIRMED","fromAddress":"TXa","toAddress":"TXb","txHash":"0x{seq:x}","paymentLink":"https://pay.example/L1","createTime":{c},"cancelTime":0,"processTime":{now_ms},"confirmTime":{now_ms}}}"#,
                c = now_ms - 60_000
            );
            return Some(text.into_bytes());
        }
        "withdraw" => json!({"webhookId": webhook, "eventType": "ON_RAMP_WITHDRAW_WEBHOOK", "orderId": order_id,
            "clientId": format!("C{seq}"), "crypto": "USDT", "amount": "50.25", "network": "TRON", "address": "TXb",
            "txHash": format!("0x{seq:x}"), "status": "succeeded", "reason": "", "timestamp": now_ms}),
        "merchant-trade" => json!({"webhookId": webhook, "eventType": "MERCHANT_TRADE_WEBHOOK",
            "tradeNo": format!("MT-{now_ms}-{seq}"), "amount": "10.00"}),
        _ => return None,
    };
    Some(value.to_string().into_bytes())
}

/// Signs a sample with BH's private key (`signature`: hex SHA256withRSA).
pub(super) fn sign(body: Vec<u8>, ctx: &SampleContext<'_>) -> Result<Sample, SampleError> {
    let key = ctx.private_key.ok_or(SampleError::NoPrivateKey("BH"))?;
    let signature = key.sign_hex(&body);
    Ok(Sample::unsigned(body).with_header("signature", signature))
}
