//! Domain types shared by every hookgate crate: tenant and source ids, provider
//! kinds, the raw notification as received, the [`Verified`] trust boundary, and
//! the ports (traits) through which crates meet without depending on each other.
//!
//! No IO crates here: this crate is data and contracts only.

mod cidr;
mod ids;
mod notification;
mod ports;

pub use cidr::Cidr;
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
    /// Keeta store authorization webhooks 1301/1302: `X-App-Signature` HMAC.
    KeetaAuth,
    /// Pagsmile issuing-card notifications: unsigned, protected by access controls.
    PagsmileIssuing,
    /// Pagsmile pay-in notifications: `Pagsmile-Signature: t=..,v2=..`.
    PagsmilePayin,
    /// Pagsmile payout notifications: `Authorization` = sha256(sorted params + app key).
    PagsmilePayout,
    /// BH (VelaFi / TruBit) pushes: RSA-SHA256 `signature` header.
    Bh,
    /// Any provider speaking Standard Webhooks (`webhook-id/-timestamp/-signature`).
    StandardWebhooks,
}

impl SourceKind {
    /// Every kind, for listings and `config check`.
    pub const ALL: &'static [SourceKind] = &[
        SourceKind::Keeta,
        SourceKind::KeetaAuth,
        SourceKind::PagsmileIssuing,
        SourceKind::PagsmilePayin,
        SourceKind::PagsmilePayout,
        SourceKind::Bh,
        SourceKind::StandardWebhooks,
    ];

    /// Configuration name of the kind, e.g. `keeta-auth`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Keeta => "keeta",
            SourceKind::KeetaAuth => "keeta-auth",
            SourceKind::PagsmileIssuing => "pagsmile-issuing",
            SourceKind::PagsmilePayin => "pagsmile-payin",
            SourceKind::PagsmilePayout => "pagsmile-payout",
            SourceKind::Bh => "bh",
            SourceKind::StandardWebhooks => "standard-webhooks",
        }
    }

    /// Provider family, the first segment of routing keys (`keeta.order.accepted`).
    pub fn provider(self) -> &'static str {
        match self {
            SourceKind::Keeta | SourceKind::KeetaAuth => "keeta",
            SourceKind::PagsmileIssuing | SourceKind::PagsmilePayin | SourceKind::PagsmilePayout => "pagsmile",
            SourceKind::Bh => "bh",
            SourceKind::StandardWebhooks => "webhooks",
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
