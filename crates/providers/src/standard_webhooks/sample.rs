//! Standard Webhooks sample messages, signed with `webhook-id`,
//! `webhook-timestamp` and `webhook-signature: v1,<base64>`.

use crate::sample::{Sample, SampleContext, SampleError};
use serde_json::json;

/// Event names of the samples (any `type` is accepted; these are examples).
pub const EVENTS: &[&str] = &["invoice.paid", "customer.created", "subscription.cancelled"];

/// The unsigned body of a sample of type `event`.
pub(super) fn body(event: &str, seq: u64, now_ms: i64) -> Option<Vec<u8>> {
    let prefix = event.split('.').next().unwrap_or("object");
    let value = json!({"type": event, "timestamp": chrono::DateTime::from_timestamp_millis(now_ms).map(|t| t.to_rfc3339()),
                       "data": {"id": format!("{prefix}_{seq}"), "amount": "10.00"}});
    Some(value.to_string().into_bytes())
}

/// Signs a sample with the source's newest key.
pub(super) fn sign(settings: &super::Settings, body: Vec<u8>, ctx: &SampleContext<'_>) -> Result<Sample, SampleError> {
    let key = settings.keys.first().ok_or(SampleError::NoSecret)?;
    let signature = super::signature::sign(key.expose(), ctx.delivery_id, ctx.now_secs, &body);
    Ok(Sample::unsigned(body)
        .with_header("webhook-id", ctx.delivery_id)
        .with_header("webhook-timestamp", ctx.now_secs.to_string())
        .with_header("webhook-signature", signature))
}
