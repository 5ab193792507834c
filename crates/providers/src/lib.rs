//! Everything hookgate knows about each provider, pure (no IO, no clock):
//! one module folder per provider with its signature recipe and its
//! normalization into canonical events.
//!
//! Architecture invariant: no IO. Every output is a function of the input
//! bytes, the source's settings and the notification's metadata, so a
//! notification normalized twice (a retry after a crash) yields the same
//! events with the same ids.

pub mod bh;
mod event;
pub mod invariants;
pub mod keeta;
pub mod keeta_auth;
mod money;
pub mod pagsmile;
pub mod standard_webhooks;
mod value;

pub use event::*;
pub(crate) use event::{parse_body, raw_body, type_word, Mapped};
pub use money::{money_from_decimal, money_from_minor};
