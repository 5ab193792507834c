//! Domain types shared by every hookgate crate: tenant and source ids, source
//! kinds (by name), secrets, the raw notification as received, the outcome of
//! a signature check, and the ports (traits) through which crates meet
//! without depending on each other.
//!
//! No IO crates here: this crate is data and contracts only.

mod chain;
mod cidr;
mod ids;
mod notification;
mod ports;
mod secret;

pub use chain::{without_values, Chain};
pub use cidr::Cidr;
pub use ids::{DeliveryKey, IdError, SourceId, TenantId};
pub use notification::{Header, RawNotification, SignatureCheck};
pub use ports::{BoxFuture, ReadinessProbe};
pub use secret::{Secret, SecretBytes, SecretRef};

use serde::Serialize;

/// The kind of a source, by its configuration name (`keeta-auth`,
/// `standard-webhooks`). The kinds are defined by `hookgate-providers`,
/// whose table is the only place that knows what each one means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SourceKind(&'static str);

impl SourceKind {
    /// The kind of this configuration name (for the providers' table).
    pub const fn named(name: &'static str) -> SourceKind {
        SourceKind(name)
    }

    /// Configuration name of the kind, e.g. `keeta-auth`.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
