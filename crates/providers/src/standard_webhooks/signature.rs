//! Standard Webhooks (<https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md>):
//! `webhook-signature: v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>`
//! (several space-separated), key = Base64 after the `whsec_` prefix.

/// Why a request did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A `webhook-*` header is missing.
    #[error("missing webhook-id, webhook-timestamp or webhook-signature")]
    Missing,
    /// The timestamp is not an integer.
    #[error("malformed webhook-timestamp")]
    Malformed,
    /// Outside the tolerance.
    #[error("webhook-timestamp outside the tolerance")]
    Stale,
    /// No v1 signature matches.
    #[error("no matching v1 signature")]
    Mismatch,
}

/// Decodes a `whsec_...` secret (or bare Base64) to key bytes.
pub fn secret_bytes(secret: &str) -> Option<Vec<u8>> {
    hookgate_signature::decode_base64(secret.trim().strip_prefix("whsec_").unwrap_or(secret.trim()))
}

/// The `webhook-signature` value for one key: `v1,<base64>`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    hookgate_signature::standard_webhooks::sign_v1(key, id, timestamp, body)
}

/// Verifies the three headers; returns the index of the matching key.
pub fn verify(
    id: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    keys: &[Vec<u8>],
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<usize, VerifyError> {
    let (Some(id), Some(ts), Some(sig)) = (id, timestamp, signature) else {
        return Err(VerifyError::Missing);
    };
    let t: i64 = ts.trim().parse().map_err(|_| VerifyError::Malformed)?;
    if tolerance_secs > 0 && (now_secs - t).abs() > tolerance_secs {
        return Err(VerifyError::Stale);
    }
    let ts = t.to_string();
    for (i, key) in keys.iter().enumerate() {
        let mac = hookgate_signature::hmac_sha256(key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
        for candidate in sig.split_whitespace() {
            let Some(b64) = candidate.strip_prefix("v1,") else {
                continue;
            };
            if hookgate_signature::decode_base64(b64).is_some_and(|got| hookgate_signature::ct_eq(&got, &mac)) {
                return Ok(i);
            }
        }
    }
    Err(VerifyError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks reference libraries.
    #[test]
    fn reference_vector() {
        let key = secret_bytes("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let sig = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let header = format!("v1,bm9wZQ== {sig}");
        assert_eq!(
            verify(
                Some("msg_p5jXN8AQM9LWM0D4loKWxJek"),
                Some("1614265330"),
                Some(&header),
                body,
                &[vec![1], key.clone()],
                1614265331,
                300
            ),
            Ok(1)
        );
        assert_eq!(
            verify(
                Some("msg_p5jXN8AQM9LWM0D4loKWxJek"),
                Some("1614265330"),
                Some(&sig),
                body,
                std::slice::from_ref(&key),
                1614266000,
                300
            ),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify(
                Some("msg_other"),
                Some("1614265330"),
                Some(&sig),
                body,
                std::slice::from_ref(&key),
                1614265330,
                300
            ),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(None, Some("1"), Some(&sig), body, &[key], 1, 300),
            Err(VerifyError::Missing)
        );
    }
}
