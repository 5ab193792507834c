//! Keeta's sample pushes: realistic `message` payloads for every event of
//! seed 001, the envelope with `message` JSON-encoded as Keeta sends it, and
//! the `sig` of the documented recipe.

use super::signature::{sign, Params};
use crate::sample::{Sample, SampleContext, SampleError};
use serde_json::{json, Map, Value};

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

/// Event names of [`EVENTS`], in order.
pub const EVENT_NAMES: &[&str] = &[
    "order-placed",
    "order-accepted",
    "order-completed",
    "order-cancelled",
    "refund",
    "delivery",
    "partial-refund",
    "business-hours",
    "store-status",
    "image-binding",
    "menu-sync",
];

/// The app id sample envelopes carry until signed for a source that sets one.
pub const SAMPLE_APP_ID: i64 = 1_000_001;
/// The store sample pushes are about.
pub const SAMPLE_SHOP_ID: i64 = 145_541;

/// The unsigned body of sample `event` (a name or an id).
pub(super) fn body(event: &str, seq: u64, now_ms: i64) -> Option<Vec<u8>> {
    let id = event_id(event)?;
    let message = message(id, seq, SAMPLE_SHOP_ID, now_ms);
    let message_id = format!("{now_ms}{seq:08}");
    let envelope = envelope(SAMPLE_APP_ID, id, &message_id, SAMPLE_SHOP_ID, &message, now_ms / 1000);
    Some(Value::Object(envelope).to_string().into_bytes())
}

/// Signs a sample body for a source: its `appId` (when set) and the `sig`.
pub(super) fn sign_for(
    settings: &super::Settings,
    body: &[u8],
    _ctx: &SampleContext<'_>,
) -> Result<Sample, SampleError> {
    let mut envelope: Map<String, Value> =
        serde_json::from_slice(body).map_err(|e| SampleError::Body(e.to_string()))?;
    if let Some(app_id) = settings.app_id {
        envelope.insert("appId".into(), json!(app_id));
    }
    let secret = settings.app_secrets.first().ok_or(SampleError::NoSecret)?;
    Ok(Sample::unsigned(signed_body(
        envelope,
        &settings.callback_url,
        secret.expose(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_event_table() {
        let names: Vec<_> = EVENTS.iter().map(|(_, n)| *n).collect();
        assert_eq!(names, EVENT_NAMES);
    }
}
