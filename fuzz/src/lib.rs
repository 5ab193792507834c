//! Shared input decoding of the fuzz targets: the first byte picks the source
//! kind, the rest is the request body; a `webhook-id` header is derived from
//! the body so Standard Webhooks inputs reach normalization.

use hookgate_core::SourceKind;

/// Splits fuzz input into a kind and a body.
pub fn kind_and_body(data: &[u8]) -> Option<(SourceKind, &[u8])> {
    let (&first, body) = data.split_first()?;
    let kinds = hookgate_providers::PROVIDERS;
    Some((kinds[usize::from(first) % kinds.len()].kind(), body))
}

/// Headers of a fuzz request: `webhook-id` is the body's first line.
pub fn headers(body: &[u8]) -> Vec<(String, String)> {
    let line = body.split(|&b| b == b'\n').next().unwrap_or_default();
    vec![("webhook-id".to_owned(), String::from_utf8_lossy(line).into_owned())]
}
