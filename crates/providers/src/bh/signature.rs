//! BH (VelaFi / TruBit) pushes: header `signature` = RSASSA-PKCS1-v1_5 with
//! SHA-256 over the raw body, hex (Base64 accepted as a fallback, the JS
//! sample's encoding), verified with the webhook's public key
//! (<https://docs.velafi.com/api-reference/webhooks/webhook-setup>).

pub use hookgate_signature::rsa::{PrivateKey, PublicKey};

/// Why a push did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// No `signature` header.
    #[error("missing signature header")]
    Missing,
    /// Neither hex nor Base64.
    #[error("signature is neither hex nor Base64")]
    Malformed,
    /// No key verifies it.
    #[error("signature does not verify")]
    Mismatch,
}

/// Verifies `header` over `body`; returns (key index, encoding).
pub fn verify(header: Option<&str>, body: &[u8], keys: &[PublicKey]) -> Result<(usize, &'static str), VerifyError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(VerifyError::Missing)?;
    let mut candidates = Vec::new();
    if let Some(b) = hookgate_signature::decode_hex(header) {
        candidates.push((b, "hex"));
    }
    if let Some(b) = hookgate_signature::decode_base64(header) {
        candidates.push((b, "base64"));
    }
    if candidates.is_empty() {
        return Err(VerifyError::Malformed);
    }
    for (bytes, encoding) in &candidates {
        if let Some(i) = keys.iter().position(|key| key.verifies(body, bytes)) {
            return Ok((i, encoding));
        }
    }
    Err(VerifyError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIVATE: &str = include_str!("../../../../config/demo/bh-private.pem");
    const PUBLIC: &str = include_str!("../../../../config/demo/bh-public.pem");

    #[test]
    fn signs_and_verifies_hex_and_base64() {
        let key = PrivateKey::from_pkcs8_pem(PRIVATE).unwrap();
        let public = PublicKey::parse(PUBLIC).unwrap();
        // The same key as BH returns it: Base64 DER SPKI without PEM armour.
        let b64: String = PUBLIC.lines().filter(|l| !l.starts_with("-----")).collect();
        let bare = PublicKey::parse(&b64).unwrap();
        let body = br#"{"eventType":"ORDER_WEBHOOK","orderId":"473130522693193728","orderStatus":"60"}"#;
        let sig = key.sign_hex(body);
        assert_eq!(verify(Some(&sig), body, std::slice::from_ref(&public)), Ok((0, "hex")));
        let b64sig = hookgate_signature::encode_base64(&hex::decode(&sig).unwrap());
        assert_eq!(verify(Some(&b64sig), body, &[bare]), Ok((0, "base64")));
        assert_eq!(
            verify(
                Some(&sig),
                b"{\"eventType\":\"ORDER_WEBHOOK\"}",
                std::slice::from_ref(&public)
            ),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(None, body, std::slice::from_ref(&public)),
            Err(VerifyError::Missing)
        );
        assert_eq!(verify(Some("%%%"), body, &[public]), Err(VerifyError::Malformed));
        assert!(PublicKey::parse("not a key").is_err());
        assert_eq!(
            PublicKey::parse(PUBLIC).unwrap().fingerprint(),
            PublicKey::parse(&b64).unwrap().fingerprint()
        );
        assert_eq!(PublicKey::parse(PUBLIC).unwrap().fingerprint().len(), 16);
        assert_eq!(key.public_key_b64(), b64);
    }
}
