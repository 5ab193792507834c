//! Tenants and sources as configured (never a secret), provider registrations, the audit log.

#![allow(unused_imports)]

use crate::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A source, secrets never shown.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SourceView {
    /// Id (the URL segment).
    pub id: String,
    /// Kind, e.g. `keeta`.
    pub kind: String,
    /// The URL providers push to.
    pub url: String,
    /// Fixed paths it also answers on the tenant's hosts.
    pub paths: Vec<String>,
    /// `enforce` or `observe`.
    pub verification: String,
    /// Largest body accepted.
    pub body_limit_bytes: usize,
    /// Which signature recipe its deliveries have proven.
    pub recipe: RecipeState,
}

/// A source's signature recipe: candidates until a delivery proves one.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecipeState {
    /// `pinned` (one candidate configured), `matched` (a delivery verified:
    /// see `proven`) or `never_matched` (onboarding: refusals are kept whole
    /// and a refused signature says `no_recipe_matched_yet`).
    pub state: String,
    /// The candidate recipes the source tries, in order (absent: the
    /// provider documents one scheme).
    pub candidates: Option<Vec<String>>,
    /// The recipes deliveries verified with, the first first.
    pub proven: Vec<ProvenRecipe>,
}

/// A recipe a source's deliveries verified with.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProvenRecipe {
    /// As stored with notifications (`signature_recipe`).
    pub recipe: String,
    /// When a delivery first verified with it.
    pub first_verified_at: DateTime<Utc>,
    /// That delivery's notification.
    pub notification_id: i64,
}

/// A queue bound to the tenant exchange.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubscriptionView {
    /// Queue.
    pub queue: String,
    /// Binding keys.
    pub bindings: Vec<String>,
}

/// A tenant.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TenantView {
    /// Id.
    pub id: String,
    /// Its exchange.
    pub exchange: String,
    /// Its virtual host (absent: the URL's).
    pub vhost: Option<String>,
    /// Host names its fixed paths answer on.
    pub hosts: Vec<String>,
    /// Its sources.
    pub sources: Vec<SourceView>,
    /// Its queues.
    pub subscriptions: Vec<SubscriptionView>,
    /// What `hookgate register` set up at the providers.
    pub registrations: Vec<Registration>,
}

/// One mutating admin call.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Id.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Token name.
    pub token: String,
    /// Action, e.g. `replay.create`.
    pub action: String,
    /// Tenant concerned.
    pub tenant: Option<String>,
    /// Target (an id).
    pub target: Option<String>,
    /// The request (filter, options).
    #[schema(value_type = Object)]
    pub request: serde_json::Value,
    /// Status answered.
    pub status: i32,
    /// Result.
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
}

/// One registration at a provider.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Registration {
    /// Source.
    pub source: String,
    /// Provider.
    pub provider: String,
    /// Event registered.
    pub event: String,
    /// Test set (Keeta).
    pub is_test: bool,
    /// The provider's status code, as returned.
    pub status: Option<i32>,
    /// URL registered.
    pub url: String,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// One key a tenant's published messages are signed with. An Ed25519 key
/// (`v1a`) comes with its public half; an HMAC secret (`v1`) only with its
/// id (a consumer holds the secret itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SigningKey {
    /// Stable id that shows nothing of the key: `v1a:<hex>` (of the public
    /// key) or `v1:<hex>` (of the secret), the first 8 bytes of its SHA-256.
    pub id: String,
    /// The `webhook-signature` entry it makes: `v1` or `v1a`.
    pub scheme: String,
    /// `hmac-sha256` or `ed25519`.
    pub algorithm: String,
    /// Ed25519 only: the public key, `whpk_<base64>` (Standard Webhooks).
    pub public_key: Option<String>,
    /// Ed25519 only: the public key as a PEM `PUBLIC KEY`.
    pub public_key_pem: Option<String>,
}

/// The keys that sign one tenant's published messages (`[signing]` of its
/// file), in the order its signatures list them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SigningKeys {
    /// Tenant.
    pub tenant: String,
    /// False when its messages are not signed (no `[signing]`).
    pub signed: bool,
    /// Its keys; every one signs every message.
    pub keys: Vec<SigningKey>,
}
