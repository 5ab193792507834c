//! BH (VelaFi / TruBit) pushes: header `signature` = RSASSA-PKCS1-v1_5 with
//! SHA-256 over the raw body, hex (Base64 accepted as a fallback, the JS
//! sample's encoding), verified with the webhook's public key
//! (<https://docs.velafi.com/api-reference/webhooks/webhook-setup>).

use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

/// A parsed verification key (parsed once, at configuration load).
#[derive(Clone, Debug)]
pub struct PublicKey(VerifyingKey<Sha256>);

impl PublicKey {
    /// Parses a PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`) or the Base64 DER SPKI
    /// text BH returns in `publicKey`.
    pub fn parse(text: &str) -> Result<PublicKey, String> {
        let text = text.trim();
        let key = if text.contains("-----BEGIN RSA PUBLIC KEY-----") {
            RsaPublicKey::from_pkcs1_pem(text).map_err(|e| e.to_string())?
        } else if text.contains("-----BEGIN") {
            RsaPublicKey::from_public_key_pem(text).map_err(|e| e.to_string())?
        } else {
            let der = crate::decode_base64(&text.split_whitespace().collect::<String>()).ok_or("not Base64 DER")?;
            RsaPublicKey::from_public_key_der(&der).map_err(|e| e.to_string())?
        };
        Ok(PublicKey(VerifyingKey::new(key)))
    }

    /// Short stable name of the key: the first 16 hex digits of the SHA-256 of
    /// its DER SPKI (the same whichever text form it was given in).
    pub fn fingerprint(&self) -> String {
        use rsa::pkcs8::EncodePublicKey;
        use sha2::Digest;
        let key: &RsaPublicKey = self.0.as_ref();
        match key.to_public_key_der() {
            Ok(der) => hex::encode(&Sha256::digest(der.as_bytes())[..8]),
            Err(_) => String::from("unencodable"),
        }
    }
}

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
    if let Some(b) = crate::decode_hex(header) {
        candidates.push((b, "hex"));
    }
    if let Some(b) = crate::decode_base64(header) {
        candidates.push((b, "base64"));
    }
    if candidates.is_empty() {
        return Err(VerifyError::Malformed);
    }
    for (bytes, encoding) in &candidates {
        let Ok(sig) = Signature::try_from(bytes.as_slice()) else {
            continue;
        };
        for (i, key) in keys.iter().enumerate() {
            if key.0.verify(body, &sig).is_ok() {
                return Ok((i, encoding));
            }
        }
    }
    Err(VerifyError::Mismatch)
}

/// A signing key (tests and `simulate` act as BH).
#[derive(Clone, Debug)]
pub struct PrivateKey(SigningKey<Sha256>);

impl PrivateKey {
    /// Parses a PKCS#8 PEM private key.
    pub fn from_pkcs8_pem(pem: &str) -> Result<PrivateKey, String> {
        Ok(PrivateKey(SigningKey::new(
            RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| e.to_string())?,
        )))
    }

    /// The public half as BH hands it out in `publicKey`: Base64 DER SPKI.
    pub fn public_key_b64(&self) -> String {
        use rsa::pkcs8::EncodePublicKey;
        let key: &RsaPrivateKey = self.0.as_ref();
        match key.to_public_key().to_public_key_der() {
            Ok(der) => crate::encode_base64(der.as_bytes()),
            Err(_) => String::new(),
        }
    }

    /// Lowercase hex signature of `body`, as BH sends it.
    pub fn sign_hex(&self, body: &[u8]) -> String {
        hex::encode(self.0.sign(body).to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIVATE: &str = include_str!("../../../config/demo/bh-private.pem");
    const PUBLIC: &str = include_str!("../../../config/demo/bh-public.pem");

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
        let b64sig = crate::encode_base64(&hex::decode(&sig).unwrap());
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
