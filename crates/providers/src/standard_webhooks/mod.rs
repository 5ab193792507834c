//! Any Standard Webhooks sender: `webhook-id` / `webhook-timestamp` /
//! `webhook-signature` headers, 204 on success, `{"error": ..}` failures,
//! `webhook-id` delivery keys (<https://www.standardwebhooks.com/>).

pub mod normalize;
pub mod sample;
pub mod signature;

pub use normalize::*;

use crate::contract::{Provider, SettingsContext, SettingsError, SourceSettings};
use crate::inspect::{
    conclude, delivery_key_or_hash, matched, Ack, Delivery, Headers, Inspected, Keys, Refusal, RefusalReason, Request,
};
use crate::sample::{Sample, SampleContext, SampleError};
use crate::{Input, NormalizeError};
use hookgate_core::{SecretBytes, SecretRef, SignatureCheck, SourceKind};
use hookgate_proto::CanonicalEvent;
use serde::Deserialize;
use serde_json::{Map, Value};
use signature::VerifyError;
use std::any::Any;
use std::sync::Arc;

/// The kind's configuration name.
pub const KIND: SourceKind = SourceKind::named("standard-webhooks");

/// The provider of `standard-webhooks` sources.
#[derive(Debug)]
pub struct StandardWebhooks;

/// A Standard Webhooks source.
#[derive(Debug, Clone)]
pub struct Settings {
    /// HMAC keys (decoded from `whsec_...`).
    pub keys: Vec<SecretBytes>,
    /// Accepted distance of `webhook-timestamp` from now, seconds.
    pub tolerance_secs: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    secrets: Vec<SecretRef>,
    #[serde(default = "five_minutes")]
    tolerance_secs: i64,
}

fn five_minutes() -> i64 {
    300
}

impl Provider for StandardWebhooks {
    fn aliases(&self) -> &'static [&'static str] {
        &["webhooks"]
    }

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
        let secrets = ctx.secrets("secrets", &f.secrets)?;
        let keys = secrets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                signature::secret_bytes(s.expose())
                    .map(SecretBytes::new)
                    .ok_or_else(|| ctx.invalid(&format!("secrets[{i}]"), "expected whsec_<base64>"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new(Settings {
            keys,
            tolerance_secs: f.tolerance_secs.max(0),
        }))
    }

    fn success(&self) -> Ack {
        Ack::empty(204)
    }

    fn failure(&self, status: u16, message: &str) -> Ack {
        Ack::json(status, serde_json::json!({ "error": message }).to_string())
    }

    fn keys(&self, body: &[u8], headers: &dyn Headers) -> Result<Keys, NormalizeError> {
        let id = headers
            .get("webhook-id")
            .ok_or(NormalizeError::MissingField("webhook-id"))?;
        let delivery_key = delivery_key_or_hash(id.to_owned(), body);
        let subject = subject(body, delivery_key.as_str())?;
        Ok(Keys { delivery_key, subject })
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
        sample.corrupt_header("webhook-signature", false)
    }
}

impl SourceSettings for Settings {
    fn provider(&self) -> &'static dyn Provider {
        &StandardWebhooks
    }

    /// The credentials are headers (`webhook-id` is both the delivery key and
    /// signed), so the signature comes first: a request without them is a 401.
    fn inspect(&self, request: &Request<'_>, body: &[u8]) -> Result<Inspected, Refusal> {
        let keys: Vec<Vec<u8>> = self.keys.iter().map(|k| k.expose().to_vec()).collect();
        let check = signature::verify(
            request.header("webhook-id"),
            request.header("webhook-timestamp"),
            request.header("webhook-signature"),
            body,
            &keys,
            request.now_secs,
            self.tolerance_secs,
        )
        .map(|i| matched("v1", i, keys.len()))
        .map_err(|e| {
            let reason = match e {
                VerifyError::Missing => RefusalReason::MissingSignature,
                VerifyError::Stale => RefusalReason::StaleTimestamp,
                _ => RefusalReason::BadSignature,
            };
            Refusal::new(reason, e)
        });
        self.conclude_with(request, body, check)
    }

    fn summary(&self) -> String {
        format!(
            "webhook-signature v1; secrets={} tolerance={}s",
            self.keys.len(),
            self.tolerance_secs
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn sign_sample(&self, body: Vec<u8>, ctx: &SampleContext<'_>) -> Result<Sample, SampleError> {
        sample::sign(self, body, ctx)
    }
}

impl Settings {
    /// The keys, once the signature is decided: a request whose signature
    /// failed is refused for that before anything else is said about it.
    fn conclude_with(
        &self,
        request: &Request<'_>,
        body: &[u8],
        check: Result<SignatureCheck, Refusal>,
    ) -> Result<Inspected, Refusal> {
        match (self.delivery(request, body), check) {
            (Ok(delivery), check) => Ok(conclude(delivery, check)),
            (Err(_), Err(signature)) => Err(signature),
            (Err(e), Ok(_)) => Err(e),
        }
    }

    fn delivery(&self, request: &Request<'_>, body: &[u8]) -> Result<Delivery, Refusal> {
        // Standard Webhooks payloads are JSON by the specification
        // (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#payload-structure).
        match StandardWebhooks.keys(body, request.headers) {
            Ok(keys) => Ok(keys.delivery(request.tenant)),
            Err(NormalizeError::NotJson(_)) => Err(Refusal::new(RefusalReason::NotJson, "the payload is not JSON")),
            Err(e) => Err(Refusal::from_error(RefusalReason::BadRequest, &e)),
        }
    }
}
