//! Keeta general webhooks (orders, stores, menus): the `sig` in the JSON
//! body, `{code, message}` answers, `messageId` delivery keys, one event per
//! push (seed 001, PROVIDERS.md §1a).

pub mod normalize;
pub mod sample;
pub mod signature;
pub mod states;

pub use normalize::*;

use crate::contract::{Provider, SettingsContext, SettingsError, SourceSettings};
use crate::inspect::{conclude, matched, Ack, Headers, Inspected, Keys, Refusal, RefusalReason, Request};
use crate::sample::{Sample, SampleContext, SampleError};
use crate::{Input, NormalizeError};
use hookgate_core::{Secret, SecretRef, SignatureCheck, SourceKind};
use hookgate_proto::CanonicalEvent;
use serde::Deserialize;
use serde_json::{Map, Value};
use signature::{Params, Recipe, Urls, VerifyError};
use std::any::Any;
use std::sync::Arc;

/// The kind's configuration name.
pub const KIND: SourceKind = SourceKind::named("keeta");

/// The provider of `keeta` sources.
#[derive(Debug)]
pub struct Keeta;

/// A Keeta general-webhooks source.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Expected `appId` of pushes (checked when set).
    pub app_id: Option<i64>,
    /// App secrets, newest first; several during a rotation.
    pub app_secrets: Vec<Secret>,
    /// The callback URL registered with Keeta (used in the signature pre-image).
    pub callback_url: String,
    /// Candidate recipes to try, in order.
    pub recipes: Vec<Recipe>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    app_id: Option<i64>,
    app_secrets: Vec<SecretRef>,
    callback_url: Option<String>,
    recipes: Option<Vec<String>>,
}

impl Provider for Keeta {
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
            app_id: f.app_id,
            app_secrets: ctx.secrets("app_secrets", &f.app_secrets)?,
            callback_url: f.callback_url.unwrap_or_else(|| ctx.default_callback_url.to_owned()),
            recipes: ctx.recipes("recipes", f.recipes, &Recipe::ALL, Recipe::parse, Recipe::name)?,
        }))
    }

    fn success(&self) -> Ack {
        Ack::json(200, r#"{"code":0,"message":"success","data":{}}"#)
    }

    /// A non-zero `code` makes Keeta retry.
    fn failure(&self, status: u16, message: &str) -> Ack {
        Ack::generic_failure(status, message)
    }

    fn normalize(&self, input: &Input<'_>) -> Result<Vec<CanonicalEvent>, NormalizeError> {
        normalize::normalize(input)
    }

    fn keys(&self, body: &[u8], _headers: &dyn Headers) -> Result<Keys, NormalizeError> {
        let envelope = Envelope::parse(body)?;
        Ok(Keys {
            delivery_key: envelope.delivery_key(body),
            subject: subject(&envelope),
        })
    }

    fn sample_events(&self) -> &'static [&'static str] {
        sample::EVENT_NAMES
    }

    fn sample_body(&self, event: &str, seq: u64, now_ms: i64) -> Option<Vec<u8>> {
        sample::body(event, seq, now_ms)
    }

    /// Order status changes are most of Keeta's traffic.
    fn typical_sample(&self) -> &'static str {
        "order-accepted"
    }

    /// The signature is in the body: its last hex digit changes.
    fn corrupt_sample(&self, mut sample: Sample) -> Sample {
        sample.body = sample::corrupt_signature(&sample.body);
        sample
    }
}

impl SourceSettings for Settings {
    fn provider(&self) -> &'static dyn Provider {
        &Keeta
    }

    /// One parse of the body: its top-level fields give the heartbeat, the
    /// envelope (delivery key), the signature parameters and the `appId`;
    /// the subject is read from `message` with one narrow parse.
    fn inspect(&self, request: &Request<'_>, body: &[u8]) -> Result<Inspected, Refusal> {
        // Keeta's heartbeat is an empty packet (empty body or `{}`), unsigned.
        let Some(fields) = parse_push(body).map_err(|e| Refusal::from_error(RefusalReason::BadRequest, &e))? else {
            return Ok(Inspected::Heartbeat);
        };
        let envelope =
            Envelope::from_fields(&fields).map_err(|e| Refusal::from_error(RefusalReason::BadRequest, &e))?;
        let delivery = Keys {
            delivery_key: envelope.delivery_key(body),
            subject: subject(&envelope),
        }
        .delivery(request.tenant);
        Ok(conclude(delivery, self.verify(request, &fields, &envelope, body.len())))
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
            "sig in body; secrets={} app_id={} callback_url={}\n    recipes: {}",
            self.app_secrets.len(),
            self.app_id.map_or("any".to_owned(), |a| a.to_string()),
            self.callback_url,
            recipes.join(", ")
        )
    }

    fn sign_sample(&self, body: Vec<u8>, ctx: &SampleContext<'_>) -> Result<Sample, SampleError> {
        sample::sign_for(self, &body, ctx)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Settings {
    fn verify(
        &self,
        request: &Request<'_>,
        fields: &Fields<'_>,
        envelope: &Envelope,
        len: usize,
    ) -> Result<SignatureCheck, Refusal> {
        if let Some(expected) = self.app_id {
            if envelope.app_id.is_some_and(|got| got != expected) {
                return Err(Refusal::new(
                    RefusalReason::AccountMismatch("app_id_mismatch"),
                    "appId does not match this source",
                ));
            }
        }
        let params = Params::from_fields(fields, len);
        let secrets: Vec<&str> = self.app_secrets.iter().map(|s| s.expose()).collect();
        let urls = Urls {
            callback: &self.callback_url,
            request: Some(request.url),
        };
        signature::verify(&params, urls, &self.recipes, &secrets)
            .map(|m| matched(m.recipe.name(), m.secret_index, secrets.len()))
            .map_err(|e| Refusal::signature(e == VerifyError::Missing, e))
    }
}
