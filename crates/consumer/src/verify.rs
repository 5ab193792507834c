//! Verification of a message's Standard Webhooks headers
//! (<https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md>):
//! `webhook-signature` holds space-separated `v1,<base64 HMAC-SHA256>` and
//! `v1a,<base64 Ed25519>` entries over `<webhook-id>.<webhook-timestamp>.<body>`;
//! one entry made by one of your keys is enough.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use std::collections::BTreeMap;
use std::time::Duration;

/// Why a message did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// `webhook-id`, `webhook-timestamp` or `webhook-signature` is missing:
    /// the message was not signed (or not by hookgate).
    #[error("missing {0} header")]
    Missing(&'static str),
    /// `webhook-timestamp` is not Unix seconds.
    #[error("malformed webhook-timestamp")]
    Malformed,
    /// Signed longer ago than [`Keys::max_age`] allows.
    #[error("signed {0} s ago, more than the {1} s allowed")]
    TooOld(i64, u64),
    /// No entry verifies with any key: altered, or signed with a key you do not hold.
    #[error("no signature verifies with the configured keys")]
    Mismatch,
}

/// The keys a consumer verifies with: `whsec_` secrets (for `v1`) and
/// `whpk_` Ed25519 public keys (for `v1a`), as `GET /v1/signing-keys`
/// lists them. Empty: messages are not verified.
#[derive(Clone, Default)]
pub struct Keys {
    hmac: Vec<ring::hmac::Key>,
    public: Vec<Vec<u8>>,
    max_age: Option<Duration>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("hmac", &self.hmac.len())
            .field("ed25519", &self.public.len())
            .field("max_age", &self.max_age)
            .finish()
    }
}

/// A key that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(String);

fn decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    STANDARD.decode(s).or_else(|_| STANDARD_NO_PAD.decode(s)).ok()
}

impl Keys {
    /// No keys: nothing is verified.
    pub fn none() -> Keys {
        Keys::default()
    }

    /// Adds a `whsec_<base64>` secret (the tenant's `[signing] secrets`).
    pub fn hmac_secret(mut self, secret: &str) -> Result<Keys, KeyError> {
        let b64 = secret.trim().strip_prefix("whsec_").unwrap_or(secret.trim());
        let bytes = decode(b64)
            .filter(|b| !b.is_empty())
            .ok_or_else(|| KeyError("expected whsec_<base64>".into()))?;
        self.hmac.push(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &bytes));
        Ok(self)
    }

    /// Adds a `whpk_<base64>` Ed25519 public key (`public_key` of
    /// `GET /v1/signing-keys`).
    pub fn public_key(mut self, key: &str) -> Result<Keys, KeyError> {
        let b64 = key.trim().strip_prefix("whpk_").unwrap_or(key.trim());
        let bytes = decode(b64)
            .filter(|b| b.len() == 32)
            .ok_or_else(|| KeyError("expected whpk_<base64 of 32 bytes>".into()))?;
        self.public.push(bytes);
        Ok(self)
    }

    /// Refuses messages signed longer ago than `age`. Off by default: a
    /// message may wait in a queue for hours, and a redelivery keeps its
    /// headers; dedupe, not the clock, protects against repeats.
    pub fn max_age(mut self, age: Duration) -> Keys {
        self.max_age = Some(age);
        self
    }

    /// True when there is no key.
    pub fn is_empty(&self) -> bool {
        self.hmac.is_empty() && self.public.is_empty()
    }

    /// Verifies `body` against its headers (lowercase names, as hookgate
    /// publishes them), at `now` (Unix seconds).
    pub fn verify(&self, headers: &BTreeMap<String, String>, body: &[u8], now: i64) -> Result<(), VerifyError> {
        let get = |name: &'static str| headers.get(name).ok_or(VerifyError::Missing(name));
        let id = get("webhook-id")?;
        let timestamp = get("webhook-timestamp")?;
        let signature = get("webhook-signature")?;
        let ts: i64 = timestamp.trim().parse().map_err(|_| VerifyError::Malformed)?;
        if let Some(max) = self.max_age {
            let age = now.saturating_sub(ts);
            if age > max.as_secs() as i64 {
                return Err(VerifyError::TooOld(age, max.as_secs()));
            }
        }
        let mut content = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
        content.extend_from_slice(id.as_bytes());
        content.push(b'.');
        content.extend_from_slice(ts.to_string().as_bytes());
        content.push(b'.');
        content.extend_from_slice(body);
        let verified = signature.split_whitespace().any(|entry| {
            if let Some(sig) = entry.strip_prefix("v1,").and_then(decode) {
                // ring compares in constant time.
                self.hmac.iter().any(|k| ring::hmac::verify(k, &content, &sig).is_ok())
            } else if let Some(sig) = entry.strip_prefix("v1a,").and_then(decode) {
                self.public.iter().any(|pk| {
                    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, pk)
                        .verify(&content, &sig)
                        .is_ok()
                })
            } else {
                false
            }
        });
        if verified {
            Ok(())
        } else {
            Err(VerifyError::Mismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;
    use ring::signature::KeyPair;

    fn headers(id: &str, ts: i64, sig: &str) -> BTreeMap<String, String> {
        [
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", sig.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// The example of the Standard Webhooks reference libraries.
    #[test]
    fn the_reference_example_verifies() {
        let keys = Keys::none()
            .hmac_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap();
        let h = headers(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            "v1,bm9ldHUjKzFob2VudXRob2VodWUzMjRvdWVvdW9ldQo= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        );
        assert_eq!(keys.verify(&h, br#"{"test": 2432232314}"#, 1614265330), Ok(()));
        assert_eq!(
            keys.verify(&h, br#"{"test": 2432232315}"#, 1614265330),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            keys.clone()
                .max_age(Duration::from_secs(300))
                .verify(&h, br#"{"test": 2432232314}"#, 1614265330 + 301),
            Err(VerifyError::TooOld(301, 300))
        );
        let mut missing = h.clone();
        missing.remove("webhook-signature");
        assert_eq!(
            keys.verify(&missing, b"", 0),
            Err(VerifyError::Missing("webhook-signature"))
        );
    }

    #[test]
    fn an_ed25519_signature_verifies_with_the_public_key_only() {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let sig = pair.sign(b"evt.1700000000.{}");
        let public = format!("whpk_{}", STANDARD.encode(pair.public_key().as_ref()));
        let keys = Keys::none().public_key(&public).unwrap();
        let h = headers("evt", 1_700_000_000, &format!("v1a,{}", STANDARD.encode(sig.as_ref())));
        assert_eq!(keys.verify(&h, b"{}", 0), Ok(()));
        assert_eq!(keys.verify(&h, b"{\"a\":1}", 0), Err(VerifyError::Mismatch));
        // A v1 entry is not checked against a public key, nor v1a against a secret.
        let hmac_only = Keys::none()
            .hmac_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap();
        assert_eq!(hmac_only.verify(&h, b"{}", 0), Err(VerifyError::Mismatch));
        assert!(Keys::none().public_key("whpk_AAAA").is_err());
    }
}
