//! Everything hookgate knows about each provider, pure (no IO, no clock):
//! one module folder per provider, each owning its source settings, its
//! signature verification, its ack contract, its delivery / idempotency /
//! ordering keys, its normalization into canonical events, and its signed
//! sample requests. [`PROVIDERS`] is the one table that knows the kinds.
//!
//! Architecture invariant: no IO. Every output is a function of the input
//! bytes, the source's settings and the notification's metadata, so a
//! notification normalized twice (a retry after a crash) yields the same
//! events with the same ids.

pub mod bh;
mod contract;
mod event;
mod inspect;
pub mod invariants;
pub mod keeta;
pub mod keeta_auth;
pub(crate) mod lenient;
mod money;
pub mod pagsmile;
mod progress;
pub mod sample;
pub mod standard_webhooks;
mod value;

pub use contract::{Provider, Resolver, SettingsContext, SettingsError, SourceSettings};
pub use event::*;
pub(crate) use event::{parse_body, parse_lenient, raw_body, type_word, Mapped};
pub use inspect::{
    Ack, Admitted, Authenticated, Delivery, Headers, Inspected, Keys, Refusal, RefusalReason, RegisteredKey, Request,
    Unverified,
};
pub use money::{money_from_decimal, money_from_minor};
pub use progress::{progress, Progress};
pub use sample::{PrivateKey, Sample, SampleContext, SampleError};

use hookgate_core::{DeliveryKey, SourceKind};
use hookgate_proto::CanonicalEvent;

/// Every source kind hookgate understands. Adding a provider: its folder,
/// and one line here.
pub static PROVIDERS: &[&dyn Provider] = &[
    &keeta::Keeta,
    &keeta_auth::KeetaAuth,
    &pagsmile::Issuing,
    &pagsmile::Payin,
    &pagsmile::Payout,
    &bh::Bh,
    &standard_webhooks::StandardWebhooks,
];

/// The provider of a kind's configuration name.
pub fn lookup(name: &str) -> Option<&'static dyn Provider> {
    PROVIDERS.iter().copied().find(|p| p.kind().as_str() == name)
}

/// The provider of a kind's name or one of its short names on the command
/// line (`webhooks`); tenant files use the exact name ([`lookup`]).
pub fn lookup_cli(name: &str) -> Option<&'static dyn Provider> {
    lookup(name).or_else(|| PROVIDERS.iter().copied().find(|p| p.aliases().contains(&name)))
}

/// The provider of a kind (every [`SourceKind`] comes from this table).
pub fn provider(kind: SourceKind) -> Option<&'static dyn Provider> {
    lookup(kind.as_str())
}

/// Every kind, in table order.
pub fn kinds() -> impl Iterator<Item = SourceKind> {
    PROVIDERS.iter().map(|p| p.kind())
}

/// Maps a stored notification to its canonical events (zero or more).
/// Values of the payload that did not fit the typed model are left out
/// of the typed data, each with a warning in every event (`warnings`).
pub fn normalize(input: &Input<'_>) -> Result<Vec<CanonicalEvent>, NormalizeError> {
    let Some(p) = provider(input.kind) else {
        return Err(NormalizeError::UnknownKind(input.kind.as_str().to_owned()));
    };
    let (result, warnings) = lenient::collecting(|| p.normalize(input));
    let mut events = result?;
    if !warnings.is_empty() {
        let warnings: Vec<String> = warnings.into_iter().map(|w| storable_text(&w)).collect();
        for e in &mut events {
            e.event.warnings.clone_from(&warnings);
        }
    }
    Ok(events)
}

/// The delivery key of a request of `kind` (see [`Provider::delivery_key`]).
pub fn delivery_key(kind: SourceKind, body: &[u8], headers: &dyn Headers) -> Result<DeliveryKey, NormalizeError> {
    match provider(kind) {
        Some(p) => p.delivery_key(body, headers),
        None => Err(NormalizeError::UnknownKind(kind.as_str().to_owned())),
    }
}
