//! Pagsmile: three kinds of source sharing one family. Issuing-card
//! notifications are unsigned (protected by access controls), pay-in ones
//! carry `Pagsmile-Signature: t=..,v2=..`, payout ones an `Authorization`
//! digest of the sorted parameters; all are answered `success` as text
//! (seed 002, PROVIDERS.md §2).

pub mod normalize;
pub mod sample;
pub mod signature;
pub mod states;

pub use normalize::*;

use crate::contract::{Provider, SettingsContext, SettingsError, SourceSettings};
use crate::inspect::{conclude, delivery_of, matched, Ack, Headers, Inspected, Keys, Refusal, RefusalReason, Request};
use crate::sample::{Sample, SampleContext, SampleError};
use crate::{Input, NormalizeError, Options};
use hookgate_core::{Secret, SecretRef, SignatureCheck, SourceKind};
use hookgate_proto::CanonicalEvent;
use serde::Deserialize;
use serde_json::{Map, Value};
use signature::VerifyError;
use std::any::Any;
use std::sync::Arc;

/// Issuing-card notifications.
pub const ISSUING: SourceKind = SourceKind::named("pagsmile-issuing");
/// Pay-in notifications.
pub const PAYIN: SourceKind = SourceKind::named("pagsmile-payin");
/// Payout notifications.
pub const PAYOUT: SourceKind = SourceKind::named("pagsmile-payout");

/// The provider of `pagsmile-issuing` sources.
#[derive(Debug)]
pub struct Issuing;
/// The provider of `pagsmile-payin` sources.
#[derive(Debug)]
pub struct Payin;
/// The provider of `pagsmile-payout` sources.
#[derive(Debug)]
pub struct Payout;

fn success() -> Ack {
    Ack::text(200, "success")
}

fn failure(status: u16, message: &str) -> Ack {
    Ack::text(status, message.to_owned())
}

/// A Pagsmile issuing-card source (unsigned by Pagsmile: access controls
/// protect it).
#[derive(Debug, Clone)]
pub struct IssuingSettings {
    /// Offset of the provider's `yyyy-MM-dd HH:mm:ss` times from UTC, in minutes.
    pub timestamp_utc_offset_minutes: i32,
    /// True when the source has access controls (else the operator allowed it unauthenticated).
    pub access_configured: bool,
    /// The Pagsmile account (`partner_id`) this source takes pushes of; a
    /// push naming another is refused (`partner_id_mismatch`). `None`: any.
    pub partner_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuingFile {
    #[serde(default = "utc")]
    timestamp_utc_offset: String,
    partner_id: Option<crate::value::Text>,
}

/// The offset Pagsmile issuing times are read at unless a source sets
/// `timestamp_utc_offset`: Pagsmile does not say (PROVIDERS.md open question
/// 15), so UTC, stated in every event (`provider_utc_offset`).
pub const DEFAULT_UTC_OFFSET: &str = "+00:00";

fn utc() -> String {
    DEFAULT_UTC_OFFSET.to_owned()
}

/// Parses `+HH:MM` / `-HH:MM` / `Z` to minutes.
fn parse_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    if s == "Z" || s.eq_ignore_ascii_case("utc") {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m))
}

impl Provider for Issuing {
    fn kind(&self) -> SourceKind {
        ISSUING
    }

    fn family(&self) -> &'static str {
        PROVIDER
    }

    fn settings(
        &self,
        fields: Map<String, Value>,
        ctx: &SettingsContext<'_>,
    ) -> Result<Arc<dyn SourceSettings>, SettingsError> {
        let f: IssuingFile = ctx.parse(fields)?;
        // Pagsmile does not sign issuing webhooks (PROVIDERS.md §2a): refuse an
        // unprotected source unless the operator says so explicitly.
        if !ctx.access_configured && !ctx.allow_unauthenticated {
            return Err(ctx.invalid(
                "",
                "pagsmile-issuing webhooks are unsigned: configure access.allow_ips, access.basic_auth \
                 or access.token, or set allow_unauthenticated = true",
            ));
        }
        let offset = parse_offset(&f.timestamp_utc_offset)
            .ok_or_else(|| ctx.invalid("timestamp_utc_offset", "expected +HH:MM or -HH:MM"))?;
        let partner_id = f.partner_id.map(|p| p.0.trim().to_owned());
        if partner_id.as_deref() == Some("") {
            return Err(ctx.invalid("partner_id", "must not be empty (leave it out to take any account)"));
        }
        Ok(Arc::new(IssuingSettings {
            timestamp_utc_offset_minutes: offset,
            access_configured: ctx.access_configured,
            partner_id,
        }))
    }

    fn success(&self) -> Ack {
        success()
    }

    fn failure(&self, status: u16, message: &str) -> Ack {
        failure(status, message)
    }

    fn keys(&self, body: &[u8], _headers: &dyn Headers) -> Result<Keys, NormalizeError> {
        issuing_keys(body)
    }

    fn normalize(&self, input: &Input<'_>) -> Result<Vec<CanonicalEvent>, NormalizeError> {
        normalize_issuing(input)
    }

    fn sample_events(&self) -> &'static [&'static str] {
        sample::ISSUING_EVENTS
    }

    fn sample_body(&self, event: &str, seq: u64, now_ms: i64) -> Option<Vec<u8>> {
        sample::issuing_body(event, seq, now_ms)
    }

    fn corrupt_sample(&self, sample: Sample) -> Sample {
        sample::corrupt_access(sample)
    }
}

impl SourceSettings for IssuingSettings {
    fn provider(&self) -> &'static dyn Provider {
        &Issuing
    }

    fn inspect(&self, request: &Request<'_>, body: &[u8]) -> Result<Inspected, Refusal> {
        let delivery = delivery_of(&Issuing, request, body)?;
        if let Some(expected) = &self.partner_id {
            #[derive(Deserialize)]
            struct Partner {
                partner_id: Option<crate::value::Text>,
            }
            let sent = serde_json::from_slice::<Partner>(body).ok().and_then(|p| p.partner_id);
            if sent.is_some_and(|p| p.0.trim() != expected) {
                return Err(Refusal::new(
                    RefusalReason::AccountMismatch("partner_id_mismatch"),
                    "partner_id does not match this source",
                ));
            }
        }
        // Pagsmile does not sign issuing webhooks; access controls ran already.
        let by = if self.access_configured {
            "access-controls"
        } else {
            "unauthenticated"
        };
        Ok(conclude(
            delivery,
            Ok(SignatureCheck::NotRequired { by: by.to_owned() }),
        ))
    }

    fn options(&self) -> Options {
        Options {
            utc_offset_minutes: Some(self.timestamp_utc_offset_minutes),
        }
    }

    fn summary(&self) -> String {
        format!(
            "unsigned by Pagsmile; local times at UTC{:+} min; partner_id={}",
            self.timestamp_utc_offset_minutes,
            self.partner_id.as_deref().unwrap_or("any")
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    /// Pagsmile does not sign issuing-card notifications.
    fn sign_sample(&self, body: Vec<u8>, _ctx: &SampleContext<'_>) -> Result<Sample, SampleError> {
        Ok(Sample::unsigned(body))
    }
}

/// A Pagsmile pay-in source.
#[derive(Debug, Clone)]
pub struct PayinSettings {
    /// HMAC secrets.
    pub secrets: Vec<Secret>,
    /// Accepted distance of `t` from now, seconds (0 disables the check).
    pub timestamp_tolerance_secs: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayinFile {
    secrets: Vec<SecretRef>,
    #[serde(default = "five_minutes")]
    timestamp_tolerance_secs: i64,
}

fn five_minutes() -> i64 {
    300
}

impl Provider for Payin {
    fn kind(&self) -> SourceKind {
        PAYIN
    }

    fn family(&self) -> &'static str {
        PROVIDER
    }

    fn settings(
        &self,
        fields: Map<String, Value>,
        ctx: &SettingsContext<'_>,
    ) -> Result<Arc<dyn SourceSettings>, SettingsError> {
        let f: PayinFile = ctx.parse(fields)?;
        Ok(Arc::new(PayinSettings {
            secrets: ctx.secrets("secrets", &f.secrets)?,
            timestamp_tolerance_secs: f.timestamp_tolerance_secs.max(0),
        }))
    }

    fn success(&self) -> Ack {
        success()
    }

    fn failure(&self, status: u16, message: &str) -> Ack {
        failure(status, message)
    }

    fn keys(&self, body: &[u8], _headers: &dyn Headers) -> Result<Keys, NormalizeError> {
        payin_keys(body)
    }

    fn normalize(&self, input: &Input<'_>) -> Result<Vec<CanonicalEvent>, NormalizeError> {
        normalize_payin(input)
    }

    fn sample_events(&self) -> &'static [&'static str] {
        sample::PAYIN_EVENTS
    }

    fn sample_body(&self, event: &str, seq: u64, now_ms: i64) -> Option<Vec<u8>> {
        sample::payin_body(event, seq, now_ms)
    }

    fn corrupt_sample(&self, sample: Sample) -> Sample {
        sample.corrupt_header("pagsmile-signature", false)
    }
}

impl SourceSettings for PayinSettings {
    fn provider(&self) -> &'static dyn Provider {
        &Payin
    }

    fn inspect(&self, request: &Request<'_>, body: &[u8]) -> Result<Inspected, Refusal> {
        let delivery = delivery_of(&Payin, request, body)?;
        let secrets: Vec<&str> = self.secrets.iter().map(|s| s.expose()).collect();
        let check = signature::verify_payin(
            request.header("pagsmile-signature"),
            body,
            &secrets,
            request.now_secs,
            self.timestamp_tolerance_secs,
        )
        .map(|i| matched("hmac-sha256(body)", i, secrets.len()))
        .map_err(|e| {
            let reason = match e {
                VerifyError::Missing => RefusalReason::MissingSignature,
                VerifyError::Stale => RefusalReason::StaleTimestamp,
                _ => RefusalReason::BadSignature,
            };
            Refusal::new(reason, e)
        });
        Ok(conclude(delivery, check))
    }

    fn summary(&self) -> String {
        format!(
            "Pagsmile-Signature HMAC; secrets={} tolerance={}s",
            self.secrets.len(),
            self.timestamp_tolerance_secs
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn sign_sample(&self, body: Vec<u8>, ctx: &SampleContext<'_>) -> Result<Sample, SampleError> {
        sample::sign_payin(self, body, ctx)
    }
}

/// A Pagsmile payout source.
#[derive(Debug, Clone)]
pub struct PayoutSettings {
    /// App keys.
    pub app_keys: Vec<Secret>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayoutFile {
    app_keys: Vec<SecretRef>,
}

impl Provider for Payout {
    fn kind(&self) -> SourceKind {
        PAYOUT
    }

    fn family(&self) -> &'static str {
        PROVIDER
    }

    fn settings(
        &self,
        fields: Map<String, Value>,
        ctx: &SettingsContext<'_>,
    ) -> Result<Arc<dyn SourceSettings>, SettingsError> {
        let f: PayoutFile = ctx.parse(fields)?;
        if ctx.basic_auth {
            // The payout signature travels in `Authorization`: basic auth cannot share it.
            return Err(ctx.invalid(
                "access.basic_auth",
                "pagsmile-payout signs in the Authorization header; use access.token or access.allow_ips",
            ));
        }
        Ok(Arc::new(PayoutSettings {
            app_keys: ctx.secrets("app_keys", &f.app_keys)?,
        }))
    }

    fn success(&self) -> Ack {
        success()
    }

    fn failure(&self, status: u16, message: &str) -> Ack {
        failure(status, message)
    }

    fn keys(&self, body: &[u8], _headers: &dyn Headers) -> Result<Keys, NormalizeError> {
        payout_keys(&normalize::fields(body)?, body)
    }

    fn normalize(&self, input: &Input<'_>) -> Result<Vec<CanonicalEvent>, NormalizeError> {
        normalize_payout(input)
    }

    fn sample_events(&self) -> &'static [&'static str] {
        sample::PAYOUT_EVENTS
    }

    fn sample_body(&self, event: &str, seq: u64, now_ms: i64) -> Option<Vec<u8>> {
        sample::payout_body(event, seq, now_ms)
    }

    fn corrupt_sample(&self, sample: Sample) -> Sample {
        sample.corrupt_header("authorization", true)
    }
}

impl SourceSettings for PayoutSettings {
    fn provider(&self) -> &'static dyn Provider {
        &Payout
    }

    fn inspect(&self, request: &Request<'_>, body: &[u8]) -> Result<Inspected, Refusal> {
        // One parse of the top-level fields: the keys and the signed parameters.
        let bad_request = |e: NormalizeError| Refusal::from_error(RefusalReason::BadRequest, &e);
        let fields = normalize::fields(body).map_err(bad_request)?;
        let delivery = payout_keys(&fields, body)
            .map_err(bad_request)?
            .delivery(request.tenant);
        let keys: Vec<&str> = self.app_keys.iter().map(|s| s.expose()).collect();
        let check = signature::verify_payout_fields(request.header("authorization"), &fields, &keys)
            .map(|i| matched("sha256(sorted-params+app_key)", i, keys.len()))
            .map_err(|e| Refusal::signature(e == VerifyError::Missing, e));
        Ok(conclude(delivery, check))
    }

    fn summary(&self) -> String {
        format!("Authorization sha256(params+app_key); keys={}", self.app_keys.len())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn sign_sample(&self, body: Vec<u8>, ctx: &SampleContext<'_>) -> Result<Sample, SampleError> {
        sample::sign_payout(self, body, ctx)
    }
}
