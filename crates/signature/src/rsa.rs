//! RSA keys for RSASSA-PKCS1-v1_5 with SHA-256: public keys parsed once (PEM,
//! PKCS#1 PEM or Base64 DER SPKI), verification of raw signature bytes, and a
//! signing key for tests and simulators.

use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};

/// A parsed verification key (parsed once, at configuration load).
#[derive(Clone, Debug)]
pub struct PublicKey(VerifyingKey<Sha256>);

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
        Ok(PublicKey(VerifyingKey::new(key)))
    }

    /// Short stable name of the key: the first 16 hex digits of the SHA-256 of
    /// its DER SPKI (the same whichever text form it was given in).
    pub fn fingerprint(&self) -> String {
        let key: &RsaPublicKey = self.0.as_ref();
        match key.to_public_key_der() {
            Ok(der) => hex::encode(&Sha256::digest(der.as_bytes())[..8]),
            Err(_) => String::from("unencodable"),
        }
    }

    /// True when `signature` is this key's signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        Signature::try_from(signature).is_ok_and(|sig| self.0.verify(message, &sig).is_ok())
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
