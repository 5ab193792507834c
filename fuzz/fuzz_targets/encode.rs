//! Canonical events with hostile text and times: encoding an event that
//! normalization produced never fails (a failure would be retried, not
//! parked), and its routing key fits an AMQP short string.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Build a Standard Webhooks payload whose type, id and timestamp come
    // from the input, so arbitrary text reaches every event field.
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\u{1}');
    let (kind, id, time) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let body = serde_json::json!({"type": kind, "timestamp": time, "data": {"id": id}}).to_string();
    let header = vec![("webhook-id".to_owned(), format!("msg_{}", id.len()))];
    let kind = hookgate_providers::standard_webhooks::KIND;
    if let Err(violation) = hookgate_providers::invariants::check_accepted(kind, body.as_bytes(), &header) {
        panic!("{violation}");
    }
    // Payout timestamps are integers: every i64 must encode.
    let seconds = i64::from_le_bytes(data.get(..8).and_then(|b| b.try_into().ok()).unwrap_or_default());
    let payout = format!(r#"{{"payoutId":"P1","status":"PAID","timestamp":{seconds}}}"#);
    let kind = hookgate_providers::pagsmile::PAYOUT;
    if let Err(violation) = hookgate_providers::invariants::check_accepted(kind, payout.as_bytes(), &header) {
        panic!("{violation}");
    }
});
