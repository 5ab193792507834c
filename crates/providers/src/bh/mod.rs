//! BH (VelaFi / TruBit) pushes: an RSA-SHA256 `signature` header verified
//! with the public keys configured or returned at registration,
//! `{"callbackStatus": ..}` answers, business delivery keys (seeds 003/004,
//! PROVIDERS.md §3).

pub mod normalize;
pub mod sample;
pub mod signature;
pub mod states;

pub use normalize::*;

use crate::contract::{Provider, SettingsContext, SettingsError, SourceSettings};
use crate::inspect::{
    conclude, delivery_of, Ack, Headers, Inspected, Keys, Refusal, RefusalReason, RegisteredKey, Request,
};
use crate::sample::{Sample, SampleContext, SampleError};
use crate::{Input, NormalizeError};
use hookgate_core::{SignatureCheck, SourceKind};
use hookgate_proto::CanonicalEvent;
use serde::Deserialize;
use serde_json::{Map, Value};
use signature::{PublicKey, VerifyError};
use std::any::Any;
use std::sync::Arc;

/// The kind's configuration name.
pub const KIND: SourceKind = SourceKind::named("bh");

/// The provider of `bh` sources.
#[derive(Debug)]
pub struct Bh;

/// A BH source.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Public keys, parsed at load; several allowed (rotation). May be empty
    /// when `hookgate register bh` supplies the keys.
    pub public_keys: Vec<PublicKey>,
}

/// A public key: Base64 DER SPKI as BH returns it, PEM text, or a PEM file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum KeyFile {
    Der(String),
    Pem(String),
    PemFile(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    public_keys: Vec<KeyFile>,
}

impl Provider for Bh {
    fn kind(&self) -> SourceKind {
        KIND
    }

    fn family(&self) -> &'static str {
        PROVIDER
    }

    fn settings(
        &self,
        fields: Map<String, Value>,
        ctx: &SettingsContext<'_>,
    ) -> Result<Arc<dyn SourceSettings>, SettingsError> {
        let f: File = ctx.parse(fields)?;
        let public_keys = f
            .public_keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let text = match k {
                    KeyFile::Der(t) | KeyFile::Pem(t) => Ok(t.clone()),
                    KeyFile::PemFile(p) => ctx.resolver.read_text(p),
                };
                text.and_then(|t| PublicKey::parse(&t))
                    .map_err(|m| ctx.invalid(&format!("public_keys[{i}]"), m))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new(Settings { public_keys }))
    }

    fn success(&self) -> Ack {
        Ack::json(200, r#"{"callbackStatus":"SUCCESS"}"#)
    }

    fn failure(&self, status: u16, _message: &str) -> Ack {
        Ack::json(status, r#"{"callbackStatus":"FAIL"}"#)
    }

    fn keys(&self, body: &[u8], _headers: &dyn Headers) -> Result<Keys, NormalizeError> {
        normalize::keys(body)
    }

    fn normalize(&self, input: &Input<'_>) -> Result<Vec<CanonicalEvent>, NormalizeError> {
        normalize::normalize(input)
    }

    fn sample_events(&self) -> &'static [&'static str] {
        sample::EVENTS
    }

    fn sample_body(&self, event: &str, seq: u64, now_ms: i64) -> Option<Vec<u8>> {
        sample::body(event, seq, now_ms)
    }

    fn corrupt_sample(&self, sample: Sample) -> Sample {
        sample.corrupt_header("signature", true)
    }
}

impl SourceSettings for Settings {
    fn provider(&self) -> &'static dyn Provider {
        &Bh
    }

    fn inspect(&self, request: &Request<'_>, body: &[u8]) -> Result<Inspected, Refusal> {
        let delivery = delivery_of(&Bh, request, body)?;
        let check = verify(request.header("signature"), body, &self.public_keys, request.registered);
        Ok(conclude(delivery, check))
    }

    fn uses_registered_keys(&self) -> bool {
        true
    }

    fn summary(&self) -> String {
        let warning = if self.public_keys.is_empty() {
            "\n    WARNING: no public key configured: pushes are refused (no_verification_key) until \
             `hookgate register bh` stores the key BH returns, or public_keys lists one"
        } else {
            ""
        };
        format!(
            "signature RSA-SHA256; public keys in config={} (plus keys stored by `hookgate register bh`){warning}",
            self.public_keys.len()
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn sign_sample(&self, body: Vec<u8>, ctx: &SampleContext<'_>) -> Result<Sample, SampleError> {
        sample::sign(body, ctx)
    }
}

/// The configured keys first, then those returned at registration (the
/// matched registered key is named by its fingerprint).
fn verify(
    header: Option<&str>,
    body: &[u8],
    configured: &[PublicKey],
    registered: &[RegisteredKey],
) -> Result<SignatureCheck, Refusal> {
    if configured.is_empty() && registered.is_empty() {
        return Err(Refusal::new(
            RefusalReason::NoVerificationKey,
            "no public key is configured or registered for this source (configure public_keys, or run `hookgate register bh`)",
        ));
    }
    match signature::verify(header, body, configured) {
        Ok((i, enc)) => {
            return Ok(crate::inspect::matched(
                &format!("rsa-sha256/{enc}"),
                i,
                configured.len(),
            ))
        }
        Err(e @ (VerifyError::Missing | VerifyError::Malformed)) => {
            return Err(Refusal::signature(e == VerifyError::Missing, e))
        }
        Err(VerifyError::Mismatch) => {}
    }
    for r in registered {
        if let Ok((_, enc)) = signature::verify(header, body, std::slice::from_ref(&r.key)) {
            return Ok(SignatureCheck::Matched {
                recipe: format!("rsa-sha256/{enc}#registered:{}", r.fingerprint),
            });
        }
    }
    Err(Refusal::new(RefusalReason::BadSignature, VerifyError::Mismatch))
}
