//! RSA keys for RSASSA-PKCS1-v1_5 with SHA-256: public keys parsed once (PEM,
//! PKCS#1 PEM or Base64 DER SPKI), verification of raw signature bytes, and a
//! signing key for tests and simulators.
//!
//! Keys are parsed with `rsa`; a signature is verified with `ring` when the
//! key is one ring takes (2048 to 8192 bits, exponent of at most 33 bits),
//! else with `rsa`. Measured here (`cargo run --release -p
//! hookgate-signature --example rsa_verify`): 33 µs with ring, 541 µs with
//! `rsa`, per 2048-bit signature.

use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};

/// A parsed verification key (parsed once, at configuration load).
#[derive(Clone, Debug)]
pub struct PublicKey {
    key: VerifyingKey<Sha256>,
    /// The modulus and exponent, big-endian, when ring takes the key.
    ring: Option<(Vec<u8>, Vec<u8>)>,
}

impl PublicKey {
    /// Parses a PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`) or Base64 DER SPKI text.
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
        // ring takes moduli of 2048 to 8192 bits and public exponents of at
        // most 33 bits; any other key is verified with `rsa`.
        let takes = (2048..=8192).contains(&key.n().bits()) && key.e().bits() <= 33;
        let ring = takes.then(|| (key.n().to_bytes_be(), key.e().to_bytes_be()));
        Ok(PublicKey {
            key: VerifyingKey::new(key),
            ring,
        })
    }

    /// Short stable name of the key: the first 16 hex digits of the SHA-256 of
    /// its DER SPKI (the same whichever text form it was given in).
    pub fn fingerprint(&self) -> String {
        let key: &RsaPublicKey = self.key.as_ref();
        match key.to_public_key_der() {
            Ok(der) => hex::encode(&Sha256::digest(der.as_bytes())[..8]),
            Err(_) => String::from("unencodable"),
        }
    }

    /// True when `signature` is this key's signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.ring {
            Some((n, e)) => ring::signature::RsaPublicKeyComponents { n, e }
                .verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
            None => self.verifies_with_rsa(message, signature),
        }
    }

    /// The same check with the `rsa` crate alone (keys ring does not take;
    /// the comparison in tests and the example).
    pub fn verifies_with_rsa(&self, message: &[u8], signature: &[u8]) -> bool {
        Signature::try_from(signature).is_ok_and(|sig| self.key.verify(message, &sig).is_ok())
    }
}

/// A signing key (tests and simulators act as the provider).
#[derive(Clone, Debug)]
pub struct PrivateKey(SigningKey<Sha256>);

impl PrivateKey {
    /// Parses a PKCS#8 PEM private key.
    pub fn from_pkcs8_pem(pem: &str) -> Result<PrivateKey, String> {
        Ok(PrivateKey(SigningKey::new(
            RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| e.to_string())?,
        )))
    }

    /// The public half as Base64 DER SPKI.
    pub fn public_key_b64(&self) -> String {
        let key: &RsaPrivateKey = self.0.as_ref();
        match key.to_public_key().to_public_key_der() {
            Ok(der) => crate::encode_base64(der.as_bytes()),
            Err(_) => String::new(),
        }
    }

    /// The signature of `message`, lowercase hex.
    pub fn sign_hex(&self, message: &[u8]) -> String {
        hex::encode(self.0.sign(message).to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::{PrivateKey, PublicKey};

    const PRIVATE: &str = include_str!("../../../config/demo/bh-private.pem");
    const OTHER: &str = include_str!("../../../tests/keys/bh-other-private.pem");

    /// ring (the webhook path) and `rsa` agree on every signature: good,
    /// made with another key, tampered, truncated, empty.
    #[test]
    fn ring_and_rsa_agree() {
        let key = PrivateKey::from_pkcs8_pem(PRIVATE).unwrap();
        let other = PrivateKey::from_pkcs8_pem(OTHER).unwrap();
        let public = PublicKey::parse(&key.public_key_b64()).unwrap();
        assert!(public.ring.is_some(), "a 2048-bit key is verified with ring");
        let message = br#"{"order":"42"}"#;
        let good = hex::decode(key.sign_hex(message)).unwrap();
        let foreign = hex::decode(other.sign_hex(message)).unwrap();
        let mut tampered = good.clone();
        tampered[10] ^= 1;
        let cases: [(&[u8], &[u8], bool); 6] = [
            (message, &good, true),
            (b"{\"order\":\"43\"}", &good, false),
            (message, &foreign, false),
            (message, &tampered, false),
            (message, &good[..good.len() - 1], false),
            (message, &[], false),
        ];
        for (i, (message, signature, expected)) in cases.into_iter().enumerate() {
            assert_eq!(public.verifies(message, signature), expected, "case {i} (ring)");
            assert_eq!(public.verifies_with_rsa(message, signature), expected, "case {i} (rsa)");
        }
    }
}
