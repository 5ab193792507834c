//! Standard Webhooks signatures
//! (<https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md>),
//! made by hookgate: over `<webhook-id>.<webhook-timestamp>.<body>`,
//! `v1,<base64 HMAC-SHA256>` with a symmetric `whsec_` key and
//! `v1a,<base64 Ed25519>` with a private key whose public half
//! (`whpk_<base64>`) is all a verifier holds. Several signatures are
//! space-separated: every configured key signs, so keys rotate without a gap.

use ring::signature::{Ed25519KeyPair, KeyPair};
use sha2::Digest;

/// The `webhook-signature` entry of one HMAC key: `v1,<base64>`.
pub fn sign_v1(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    let mac = crate::hmac_sha256(key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
    format!("v1,{}", crate::encode_base64(&mac))
}

/// The bytes a signature covers: `id.timestamp.body`.
fn signed_content(id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let ts = timestamp.to_string();
    let mut content = Vec::with_capacity(id.len() + ts.len() + body.len() + 2);
    content.extend_from_slice(id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(ts.as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

/// An Ed25519 private key (`v1a` signatures).
pub struct Ed25519Key {
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for Ed25519Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519Key")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl Ed25519Key {
    /// Reads a PKCS#8 private key, PEM (`-----BEGIN PRIVATE KEY-----`, as
    /// `openssl genpkey -algorithm ed25519` writes it) or DER.
    pub fn from_pkcs8(text: &[u8]) -> Result<Ed25519Key, String> {
        let der = match pem_rfc7468::decode_vec(text) {
            Ok(("PRIVATE KEY", der)) => der,
            Ok((label, _)) => return Err(format!("expected a PRIVATE KEY (PKCS#8) PEM block, found {label}")),
            Err(_) if !text.starts_with(b"-----") => text.to_vec(),
            Err(e) => return Err(format!("not a PEM private key: {e}")),
        };
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
            .map_err(|e| format!("not an Ed25519 PKCS#8 private key: {e}"))?;
        Ok(Ed25519Key { pair })
    }

    /// A new random key, as PKCS#8 PEM (tests, `hookgate keys`).
    pub fn generate_pem() -> Result<String, String> {
        let rng = ring::rand::SystemRandom::new();
        let der = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| format!("cannot generate a key: {e}"))?;
        pem_rfc7468::encode_string("PRIVATE KEY", pem_rfc7468::LineEnding::LF, der.as_ref())
            .map_err(|e| format!("cannot encode the key: {e}"))
    }

    /// The raw 32-byte public key.
    pub fn public_key_bytes(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// Its [`key_id`]: `v1a:<hex>` of the public key.
    pub fn id(&self) -> String {
        key_id("v1a", self.public_key_bytes())
    }

    /// The public key in the Standard Webhooks form: `whpk_<base64>`.
    pub fn public_key(&self) -> String {
        format!("whpk_{}", crate::encode_base64(self.public_key_bytes()))
    }

    /// The public key as a PEM `PUBLIC KEY` (SubjectPublicKeyInfo), for
    /// libraries that read PEM.
    pub fn public_key_pem(&self) -> String {
        // SubjectPublicKeyInfo of Ed25519 (RFC 8410): a fixed 12-byte prefix, then the key.
        const PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
        let mut der = PREFIX.to_vec();
        der.extend_from_slice(self.public_key_bytes());
        pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, &der).unwrap_or_default()
    }

    /// The `webhook-signature` entry: `v1a,<base64>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let sig = self.pair.sign(&signed_content(id, timestamp, body));
        format!("v1a,{}", crate::encode_base64(sig.as_ref()))
    }
}

/// A short, stable name of a key that shows nothing of it: the first 8 bytes
/// of SHA-256 of its (public or secret) bytes, hex, with the scheme:
/// `v1:3f2a…`, `v1a:9c0e…`.
pub fn key_id(scheme: &str, bytes: &[u8]) -> String {
    let digest = sha2::Sha256::digest(bytes);
    format!("{scheme}:{}", hex::encode(&digest[..8]))
}

/// Every key of one signer: HMAC secrets (`v1`) and Ed25519 keys (`v1a`).
/// `Debug` shows key ids, never a secret.
#[derive(Default)]
pub struct Signer {
    hmac: Vec<Vec<u8>>,
    ed25519: Vec<Ed25519Key>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("hmac", &self.hmac_key_ids())
            .field("ed25519", &self.ed25519)
            .finish()
    }
}

impl Signer {
    /// A signer with these keys.
    pub fn new(hmac: Vec<Vec<u8>>, ed25519: Vec<Ed25519Key>) -> Signer {
        Signer { hmac, ed25519 }
    }

    /// True when there is no key (nothing is signed).
    pub fn is_empty(&self) -> bool {
        self.hmac.is_empty() && self.ed25519.is_empty()
    }

    /// The Ed25519 keys (their public halves are served).
    pub fn ed25519_keys(&self) -> &[Ed25519Key] {
        &self.ed25519
    }

    /// Ids of the HMAC keys ([`key_id`]; never the key).
    pub fn hmac_key_ids(&self) -> Vec<String> {
        self.hmac.iter().map(|k| key_id("v1", k)).collect()
    }

    /// The `webhook-signature` value: one entry per key, space-separated,
    /// HMAC keys first.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut out = String::new();
        let content = (!self.ed25519.is_empty()).then(|| signed_content(id, timestamp, body));
        for key in &self.hmac {
            push_entry(&mut out, sign_v1(key, id, timestamp, body));
        }
        if let Some(content) = content {
            for key in &self.ed25519 {
                let sig = key.pair.sign(&content);
                push_entry(&mut out, format!("v1a,{}", crate::encode_base64(sig.as_ref())));
            }
        }
        out
    }
}

fn push_entry(out: &mut String, entry: String) {
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(&entry);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;

    /// The example of the Standard Webhooks reference libraries.
    #[test]
    fn v1_matches_the_reference_example() {
        let key = crate::decode_base64("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = sign_v1(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn every_key_signs_once_in_order() {
        let ed = Ed25519Key::from_pkcs8(Ed25519Key::generate_pem().unwrap().as_bytes()).unwrap();
        let public = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, ed.public_key_bytes().to_vec());
        let signer = Signer::new(vec![b"old".to_vec(), b"new".to_vec()], vec![ed]);
        let sig = signer.sign("evt", 1_700_000_000, b"{}");
        let entries: Vec<&str> = sig.split(' ').collect();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0], sign_v1(b"old", "evt", 1_700_000_000, b"{}"));
        assert_eq!(entries[1], sign_v1(b"new", "evt", 1_700_000_000, b"{}"));
        let ed_sig = crate::decode_base64(entries[2].strip_prefix("v1a,").unwrap()).unwrap();
        assert!(public.verify(b"evt.1700000000.{}", &ed_sig).is_ok());
        assert!(public.verify(b"evt.1700000000.{ }", &ed_sig).is_err());
        assert_eq!(
            format!("{signer:?}").matches("v1:").count(),
            2,
            "ids, not secrets: {signer:?}"
        );
    }

    #[test]
    fn pem_keys_are_read_and_others_refused() {
        let pem = Ed25519Key::generate_pem().unwrap();
        let key = Ed25519Key::from_pkcs8(pem.as_bytes()).unwrap();
        assert!(key.public_key().starts_with("whpk_"));
        assert!(key.public_key_pem().starts_with("-----BEGIN PUBLIC KEY-----"));
        let e = Ed25519Key::from_pkcs8(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").unwrap_err();
        assert!(e.contains("PRIVATE KEY"), "{e}");
        assert!(Ed25519Key::from_pkcs8(b"not a key").is_err());
    }
}
