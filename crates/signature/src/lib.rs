//! Provider signature recipes, pure and shared: the ingress verifiers check
//! them, `hookgate simulate` and the test kit sign with them, and the provider
//! API clients sign their requests with them. No IO, no clock.
//!
//! Every comparison of a received signature is constant time.

pub mod keeta;

use subtle::ConstantTimeEq;

/// Constant-time equality of two byte strings (length is not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Decodes hex in either case; `None` if it is not hex.
pub fn decode_hex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s.trim()).ok()
}
