//! Keeta store authorizations (1301/1302): `X-App-Signature` HMAC,
//! `{code, message}` success and `{status, title}` failures, `authId:opType`
//! delivery keys (seed 000, PROVIDERS.md §1b).

pub mod normalize;
pub mod sample;
pub mod signature;

pub use normalize::*;

use crate::contract::{Provider, SettingsContext, SettingsError, SourceSettings};
use crate::inspect::{conclude, matched, Ack, Headers, Inspected, Keys, Refusal, RefusalReason, Request};
use crate::sample::{Sample, SampleContext, SampleError};
use crate::{Input, NormalizeError};
use hookgate_core::{Secret, SecretRef, SignatureCheck, SourceKind};
use hookgate_proto::CanonicalEvent;
use serde::Deserialize;
use serde_json::{Map, Value};
use signature::{Recipe, VerifyError};
use std::any::Any;
use std::sync::Arc;

/// The kind's configuration name.
pub const KIND: SourceKind = SourceKind::named("keeta-auth");

/// The provider of `keeta-auth` sources.
#[derive(Debug)]
pub struct KeetaAuth;

/// A Keeta store-authorization (1301/1302) source.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Expected `clientId` (checked when set).
    pub client_id: Option<i64>,
    /// Client secrets (HMAC keys).
    pub client_secrets: Vec<Secret>,
    /// This source's URL as configured in Keeta's portal (for the URL recipes).
    pub callback_url: String,
    /// Candidate recipes to try, in order.
    pub recipes: Vec<Recipe>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    client_id: Option<i64>,
    client_secrets: Vec<SecretRef>,
    callback_url: Option<String>,
    recipes: Option<Vec<String>>,
}

impl Provider for KeetaAuth {
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
        Ok(Arc::new(Settings {
            client_id: f.client_id,
            client_secrets: ctx.secrets("client_secrets", &f.client_secrets)?,
            callback_url: f.callback_url.unwrap_or_else(|| ctx.default_callback_url.to_owned()),
            recipes: ctx.recipes("recipes", f.recipes, &Recipe::ALL, Recipe::parse, Recipe::name)?,
        }))
    }

    /// Both documented readings of success (seed 000 shows `{code, message}`
    /// in one place and `{status, title}` in another): whichever schema Keeta
    /// reads, it reads success.
    fn success(&self) -> Ack {
        Ack::json(200, r#"{"code":0,"message":"success","status":0,"title":"success"}"#)
    }

    fn failure(&self, status: u16, message: &str) -> Ack {
        Ack::json(
            status,
            serde_json::json!({ "status": status, "title": message }).to_string(),
        )
    }

    fn keys(&self, body: &[u8], _headers: &dyn Headers) -> Result<Keys, NormalizeError> {
        normalize::read(body).map(|(keys, _)| keys)
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
        sample.corrupt_header("x-app-signature", false)
    }
}

impl SourceSettings for Settings {
    fn provider(&self) -> &'static dyn Provider {
        &KeetaAuth
    }

    fn inspect(&self, request: &Request<'_>, body: &[u8]) -> Result<Inspected, Refusal> {
        // Keeta probes its webhooks with an empty packet (seed 001): an empty
        // body or `{}`, unsigned, answered with success and stored nowhere.
        if is_probe(body) {
            return Ok(Inspected::Heartbeat);
        }
        // One parse: the keys and the clientId.
        let (keys, client_id) =
            normalize::read(body).map_err(|e| Refusal::from_error(RefusalReason::BadRequest, &e))?;
        Ok(conclude(
            keys.delivery(request.tenant),
            self.verify(request, client_id, body),
        ))
    }

    fn callback_url(&self) -> Option<&str> {
        Some(&self.callback_url)
    }

    fn candidate_recipes(&self) -> Option<Vec<&'static str>> {
        Some(self.recipes.iter().map(|r| r.name()).collect())
    }

    fn summary(&self) -> String {
        let recipes: Vec<_> = self.recipes.iter().map(|r| r.name()).collect();
        format!(
            "X-App-Signature; secrets={} recipes: {}",
            self.client_secrets.len(),
            recipes.join(", ")
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
    fn verify(&self, request: &Request<'_>, client_id: Option<i64>, body: &[u8]) -> Result<SignatureCheck, Refusal> {
        if let Some(expected) = self.client_id {
            if client_id.is_some_and(|got| got != expected) {
                return Err(Refusal::new(
                    RefusalReason::AccountMismatch("client_id_mismatch"),
                    "clientId does not match this source",
                ));
            }
        }
        let secrets: Vec<&str> = self.client_secrets.iter().map(|s| s.expose()).collect();
        signature::verify(
            request.header("x-app-signature"),
            body,
            &[&self.callback_url, request.url],
            &self.recipes,
            &secrets,
        )
        .map(|m| {
            // The recipe as stored says over which URL it matched.
            let over = if m.request_url { "@request-url" } else { "" };
            matched(
                &format!("{}{over}/{}", m.recipe.name(), m.encoding),
                m.secret_index,
                secrets.len(),
            )
        })
        .map_err(|e| Refusal::signature(e == VerifyError::Missing, e))
    }
}

/// An empty body or an empty JSON object (whitespace aside).
fn is_probe(body: &[u8]) -> bool {
    let text: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    text.is_empty() || text == b"{}"
}
