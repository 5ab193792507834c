//! What "accepted" must imply, as a check that fuzz targets and tests share:
//! a request the ingress accepts is storable (its keys fit PostgreSQL text
//! and btree entries), and each of its events is publishable (routing key and
//! idempotency key fit, the event encodes) or the notification parks at once
//! (normalization refuses it). Nothing accepted may be retried forever.

use crate::{delivery_key, normalize, ordering_key, Headers, Input, Options, MAX_KEY_LEN, MAX_ROUTING_KEY_LEN};
use chrono::{DateTime, Utc};
use hookgate_core::SourceKind;

/// Why an input breaks the rule (a finding of the fuzzer).
pub type Violation = String;

fn storable(what: &str, key: &str, max: usize) -> Result<(), Violation> {
    if key.contains('\0') {
        return Err(format!("{what} holds NUL: {key:?}"));
    }
    if key.len() > max {
        return Err(format!("{what} is {} bytes (max {max})", key.len()));
    }
    Ok(())
}

/// Checks the rule for one request body of `kind` (headers looked up by
/// `header`, lowercase names): keys storable, events publishable or parked.
pub fn check_accepted(kind: SourceKind, body: &[u8], header: &dyn Headers) -> Result<(), Violation> {
    let Ok(key) = delivery_key(kind, body, header) else {
        return Ok(()); // refused with 400 before anything is stored
    };
    storable("delivery key", key.as_str(), hookgate_core::DeliveryKey::MAX_LEN)?;
    let options = Options::default();
    if let Some(ordering) = ordering_key("t", kind, body, key.as_str(), options) {
        storable("ordering key", &ordering, MAX_KEY_LEN)?;
    }
    let input = Input {
        tenant: "t",
        source: "s",
        kind,
        notification_id: 1,
        received_at: DateTime::<Utc>::UNIX_EPOCH,
        body,
        delivery_key: key.as_str(),
        options,
    };
    let Ok(events) = normalize(&input) else {
        return Ok(()); // parks at once with its reason
    };
    for event in events {
        storable("routing key", &event.routing_key(), MAX_ROUTING_KEY_LEN)?;
        storable("idempotency key", &event.event.idempotency_key, MAX_KEY_LEN)?;
        storable("event type", &event.event.r#type, MAX_ROUTING_KEY_LEN)?;
        event.to_json().map_err(|e| format!("event does not encode: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reproducers of the isolation review hold the rule.
    #[test]
    fn hostile_payloads_are_storable_and_publishable() {
        let id: Vec<(String, String)> = vec![("webhook-id".into(), "msg_1".into())];
        let long_type = format!(r#"{{"type":"{}","data":{{"id":"a"}}}}"#, "x".repeat(300));
        let cases: Vec<(SourceKind, String)> = vec![
            (crate::standard_webhooks::KIND, long_type),
            (
                crate::standard_webhooks::KIND,
                r#"{"type":"a","data":{"id":"in\u0000x"}}"#.into(),
            ),
            (
                crate::pagsmile::PAYOUT,
                r#"{"payoutId":"P1","status":"PAID","timestamp":99999999999999}"#.into(),
            ),
            (
                crate::pagsmile::PAYOUT,
                format!(r#"{{"payoutId":"P1","status":"{}","timestamp":1}}"#, "S".repeat(400)),
            ),
            (
                crate::pagsmile::PAYIN,
                format!(
                    r#"{{"out_trade_no":"o\u0000{}","trade_status":"{}","trade_no":"t","amount":"1","currency":"BRL"}}"#,
                    "1".repeat(300),
                    "Z".repeat(300)
                ),
            ),
            // Found by the fuzzer: a BH time no Timestamp can hold, inside the typed data.
            (
                crate::bh::KIND,
                r#"{"webhookId":"w","eventType":"FUNDING_WEBHOOK","txId":"T1","status":"2","createTime":"17352799070067890"}"#
                    .into(),
            ),
        ];
        for (kind, body) in cases {
            if let Err(v) = check_accepted(kind, body.as_bytes(), &id) {
                panic!("{kind} {body}: {v}");
            }
        }
    }
}
