//! Domain types shared by every hookgate crate: tenant and source ids, provider
//! kinds, the raw notification as received, the [`Verified`] trust boundary, and
//! the ports (traits) through which crates meet without depending on each other.
//!
//! No IO crates here: this crate is data and contracts only.

mod ids;
mod notification;
mod ports;

pub use ids::{DeliveryKey, IdError, SourceId, TenantId};
pub use notification::{Header, RawNotification, SignatureCheck, Verified};
pub use ports::{BoxFuture, ReadinessProbe};

use serde::{Deserialize, Serialize};

/// The kinds of source hookgate understands. The kind decides how a request is
/// verified, acknowledged, keyed and normalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// Keeta general webhooks (orders, stores, menus): `sig` in the JSON body.
    Keeta,
}

impl SourceKind {
    /// Every kind, for listings and `config check`.
    pub const ALL: &'static [SourceKind] = &[SourceKind::Keeta];

    /// Configuration name of the kind, e.g. `keeta`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Keeta => "keeta",
        }
    }

    /// Provider family, the first segment of routing keys (`keeta.order.accepted`).
    pub fn provider(self) -> &'static str {
        match self {
            SourceKind::Keeta => "keeta",
        }
    }

    /// Parses the configuration name of a kind.
    pub fn parse(s: &str) -> Option<SourceKind> {
        SourceKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
