//! The admin API's wire types: what `/v1` takes and answers (serde, with
//! their OpenAPI schemas from utoipa). Shared by the server
//! (`hookgate-admin`, whose store reads produce them) and its typed client
//! (`hookgate-client`), so neither side re-declares a field.
//!
//! Architecture invariant: no IO and no server code; every type here can be
//! both serialized and deserialized.

pub mod config;
pub mod error;
pub mod notifications;
pub mod page;
pub mod rejections;
pub mod replay;
pub mod retention;
pub mod tenants;
pub mod watch;

pub use config::ReloadStatus;
pub use error::ErrorBody;
pub use notifications::{
    EventSummary, NotificationDetail, NotificationFilter, NotificationSummary, OutboxStatus, Payload, ReplayMark,
    StoredHeader, Timeline, TimelineEntry,
};
pub use page::Page;
pub use rejections::{ReadmitResult, RejectionDetail, RejectionSummary};
pub use replay::{Plan, ReplayJob, ReplayOne, ReplayRequest, RequeueAnswer, RequeueRequest, Requeued};
pub use retention::{DroppedPartition, Erased, ErasureRequest, Partition, TenantRetention};
pub use tenants::{
    AuditEntry, ProvenRecipe, RecipeState, Registration, SigningKey, SigningKeys, SourceView, SubscriptionView,
    TenantView,
};
pub use watch::{CauseCount, Incident, IncidentDetail, IncidentTransition, SourceHealth};

/// `true`: the default of every `dry_run` (plans first).
pub(crate) fn yes() -> bool {
    true
}
