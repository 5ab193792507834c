//! Keeta store-authorization sample pushes (seed 001's authorization
//! message), signed with `X-App-Signature`.

use crate::sample::{Sample, SampleContext, SampleError};
use serde_json::json;

/// Event names of the samples.
pub const EVENTS: &[&str] = &["authorized", "cancelled"];

/// The unsigned body of sample `event`.
pub(super) fn body(event: &str, seq: u64, now_ms: i64) -> Option<Vec<u8>> {
    let op = match event {
        "authorized" => 1,
        "cancelled" => 2,
        _ => return None,
    };
    let n = seq as i64;
    let value = json!({"clientId": 2_666_245_991u64, "authId": format!("{}", 41_008 + n), "opType": op,
                       "shopId": 478_268 + n, "shopName": "10 Shanghai", "createTime": now_ms});
    Some(value.to_string().into_bytes())
}

/// Signs a sample with the source's newest client secret.
pub(super) fn sign(settings: &super::Settings, body: Vec<u8>, _ctx: &SampleContext<'_>) -> Result<Sample, SampleError> {
    let secret = settings.client_secrets.first().ok_or(SampleError::NoSecret)?;
    let signature = super::signature::sign(&body, secret.expose());
    Ok(Sample::unsigned(body).with_header("x-app-signature", signature))
}
