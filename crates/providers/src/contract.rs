//! What every provider implements, and what ingress and the dispatcher see of
//! it: the [`Provider`] (one per source kind, in the table of `lib.rs`) and
//! the [`SourceSettings`] of one configured source.

use crate::inspect::{Headers, Inspected, Keys, Refusal, Request};
use crate::sample::{Sample, SampleContext, SampleError};
use crate::{Ack, Input, NormalizeError, Options};
use hookgate_core::{DeliveryKey, Secret, SecretRef, SourceKind};
use hookgate_proto::CanonicalEvent;
use serde_json::{Map, Value};
use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;

/// One source kind: how its sources are configured, answered and normalized.
pub trait Provider: Debug + Send + Sync {
    /// The kind's configuration name.
    fn kind(&self) -> SourceKind;

    /// Short names the command line accepts besides the kind's name.
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }

    /// The provider family: first segment of its routing keys (`keeta`).
    fn family(&self) -> &'static str;

    /// Builds a source's settings from the keys of its table in the tenant
    /// file that are not common to every source (`kind`, `verification`,
    /// `body_limit_bytes`, `access`, `allow_unauthenticated`).
    fn settings(
        &self,
        fields: Map<String, Value>,
        ctx: &SettingsContext<'_>,
    ) -> Result<Arc<dyn SourceSettings>, SettingsError>;

    /// The success answer the provider expects.
    fn success(&self) -> Ack;

    /// A failure answer shaped as the provider expects.
    fn failure(&self, status: u16, message: &str) -> Ack;

    /// The delivery key and the event's subject, from one parse of the
    /// body: what ingress stores with the request before its commit. The
    /// subject is the one [`Provider::normalize`] names whenever that
    /// succeeds (checked over every fixture and by the fuzzer).
    fn keys(&self, body: &[u8], headers: &dyn Headers) -> Result<Keys, NormalizeError>;

    /// The delivery key of a request: the provider's per-delivery id or
    /// business key where it has one (PROVIDERS.md), else SHA-256 of the body.
    fn delivery_key(&self, body: &[u8], headers: &dyn Headers) -> Result<DeliveryKey, NormalizeError> {
        self.keys(body, headers).map(|k| k.delivery_key)
    }

    /// Maps a stored notification of this kind to its canonical events.
    fn normalize(&self, input: &Input<'_>) -> Result<Vec<CanonicalEvent>, NormalizeError>;

    /// The event names of this kind's sample requests (`simulate <kind> <event>`).
    fn sample_events(&self) -> &'static [&'static str];

    /// The unsigned body of sample `event`, as the provider would send it;
    /// `seq` varies the ids, `now_ms` (Unix milliseconds) the times. `None`
    /// for an event name the kind does not know.
    fn sample_body(&self, event: &str, seq: u64, now_ms: i64) -> Option<Vec<u8>>;

    /// The sample a benchmark sends by default: the provider's most
    /// frequent push.
    fn typical_sample(&self) -> &'static str {
        self.sample_events().first().copied().unwrap_or("all")
    }

    /// Breaks the provider's signature of a signed sample (where the
    /// provider does not sign: its access credentials).
    fn corrupt_sample(&self, sample: Sample) -> Sample;
}

/// One configured source of a kind: its credentials and options, and the
/// one inspection of a request that ingress needs before its commit.
pub trait SourceSettings: Debug + Send + Sync + Any {
    /// The kind's provider.
    fn provider(&self) -> &'static dyn Provider;

    /// Parses the body once and decides everything ingress needs before the
    /// commit: heartbeat or not, the signature, the delivery and ordering keys.
    fn inspect(&self, request: &Request<'_>, body: &[u8]) -> Result<Inspected, Refusal>;

    /// Normalization options of this source.
    fn options(&self) -> Options {
        Options::default()
    }

    /// True when the provider hands out verification keys at registration
    /// (ingress then passes the registered keys in [`Request::registered`]).
    fn uses_registered_keys(&self) -> bool {
        false
    }

    /// The URL the provider is told to call, where the source configures
    /// its own (it is then part of the signature); `None`: the gateway's
    /// default URL for the source.
    fn callback_url(&self) -> Option<&str> {
        None
    }

    /// The candidate signature recipes this source tries, where its
    /// provider's recipe is not documented precisely enough to be a fact
    /// (Keeta): a first delivery proves which one matches, and one alone is
    /// the source's pinned recipe. `None`: the provider documents one
    /// scheme.
    fn candidate_recipes(&self) -> Option<Vec<&'static str>> {
        None
    }

    /// One line for `hookgate config check` (never a secret).
    fn summary(&self) -> String;

    /// Signs a sample body as the provider would, with this source's
    /// credentials (the provider's headers only; access credentials are the
    /// source's, added by whoever holds them).
    fn sign_sample(&self, body: Vec<u8>, ctx: &SampleContext<'_>) -> Result<Sample, SampleError>;

    /// The settings as `Any`, for code that knows the kind (onboarding, tests).
    fn as_any(&self) -> &dyn Any;
}

impl dyn SourceSettings {
    /// The source's recipe state: `pinned` (one candidate configured),
    /// `matched` (`proven`: a delivery verified) or `never_matched`.
    pub fn recipe_state(&self, proven: bool) -> &'static str {
        match (self.candidate_recipes(), proven) {
            (Some(c), _) if c.len() == 1 => "pinned",
            (_, true) => "matched",
            (_, false) => "never_matched",
        }
    }

    /// The settings of kind `T`, if these are.
    pub fn downcast<T: SourceSettings>(&self) -> Option<&T> {
        self.as_any().downcast_ref::<T>()
    }
}

/// Reads secrets and files for a provider's settings (the configuration
/// crate implements it: providers do no IO themselves).
pub trait Resolver {
    /// Resolves one secret reference; `Err` says why, never the value.
    fn secret(&self, reference: &SecretRef) -> Result<Secret, String>;

    /// Reads a text file named relative to the tenant file.
    fn read_text(&self, path: &str) -> Result<String, String>;
}

/// What a provider's settings may depend on besides its own keys.
#[derive(Clone, Copy)]
pub struct SettingsContext<'a> {
    /// Dotted key of the source table (`sources.keeta`), for messages.
    pub key: &'a str,
    /// The URL providers call for this source (`public_base_url/hooks/t/s`).
    pub default_callback_url: &'a str,
    /// True when the source has network access controls configured.
    pub access_configured: bool,
    /// True when the source has basic credentials configured.
    pub basic_auth: bool,
    /// The operator accepts an unauthenticated source explicitly.
    pub allow_unauthenticated: bool,
    /// Secret and file access.
    pub resolver: &'a dyn Resolver,
}

impl Debug for SettingsContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingsContext")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// A setting that is not acceptable: the dotted key and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct SettingsError {
    /// Dotted key (`sources.keeta.recipes`).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl SettingsContext<'_> {
    /// An error about `sub` (a key under the source table; empty: the table).
    pub fn invalid(&self, sub: &str, message: impl Into<String>) -> SettingsError {
        let key = if sub.is_empty() {
            self.key.to_owned()
        } else {
            format!("{}.{sub}", self.key)
        };
        SettingsError {
            key,
            message: message.into(),
        }
    }

    /// Deserializes the provider's own keys (unknown keys are errors when
    /// `T` denies them).
    pub fn parse<T: serde::de::DeserializeOwned>(&self, fields: Map<String, Value>) -> Result<T, SettingsError> {
        serde_json::from_value(Value::Object(fields)).map_err(|e| self.invalid("", e.to_string()))
    }

    /// Resolves a non-empty list of secrets under `sub`.
    pub fn secrets(&self, sub: &str, refs: &[SecretRef]) -> Result<Vec<Secret>, SettingsError> {
        if refs.is_empty() {
            return Err(self.invalid(sub, "at least one secret is required"));
        }
        refs.iter()
            .enumerate()
            .map(|(i, r)| {
                self.resolver
                    .secret(r)
                    .map_err(|m| self.invalid(&format!("{sub}[{i}]"), m))
            })
            .collect()
    }

    /// The recipes named under `sub`, or all of them when absent.
    pub fn recipes<R: Copy>(
        &self,
        sub: &str,
        names: Option<Vec<String>>,
        all: &[R],
        parse: fn(&str) -> Option<R>,
        name: fn(R) -> &'static str,
    ) -> Result<Vec<R>, SettingsError> {
        match names {
            None => Ok(all.to_vec()),
            Some(names) if names.is_empty() => Err(self.invalid(sub, "must not be empty")),
            Some(names) => names
                .iter()
                .map(|n| {
                    parse(n).ok_or_else(|| {
                        let known: Vec<_> = all.iter().map(|r| name(*r)).collect();
                        self.invalid(sub, format!("unknown recipe {n:?}; known: {}", known.join(", ")))
                    })
                })
                .collect(),
        }
    }
}
