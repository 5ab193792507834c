//! Signature primitives, pure and provider-neutral: constant-time comparison,
//! hex and Base64 decoding, HMAC-SHA256, RSA (PKCS#1 v1.5, SHA-256) keys and
//! Standard Webhooks signatures (`v1` HMAC, `v1a` Ed25519) of what hookgate publishes.
//! Each provider's recipe is built from them in `hookgate-providers`. No IO,
//! no clock.
//!
//! Every comparison of a received signature is constant time.

pub mod rsa;
pub mod standard_webhooks;

use subtle::ConstantTimeEq;

/// Constant-time equality of two byte strings (length is not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Decodes hex in either case; `None` if it is not hex.
pub fn decode_hex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s.trim()).ok()
}

/// Decodes standard or URL-safe Base64, padded or not.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine;
    let s = s.trim();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(s).ok())
}

/// Standard padded Base64.
pub fn encode_base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// HMAC-SHA256 of `parts` (concatenated) keyed by `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// A signature header decoded as hex or Base64 (whichever fits `len` bytes).
pub fn decode_digest(s: &str, len: usize) -> Option<(Vec<u8>, &'static str)> {
    let s = s.trim();
    if let Some(b) = decode_hex(s).filter(|b| b.len() == len) {
        return Some((b, "hex"));
    }
    decode_base64(s).filter(|b| b.len() == len).map(|b| (b, "base64"))
}
