//! The running configuration and its reloads.

#![allow(unused_imports)]

use crate::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where the running configuration came from and how its last reload went.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReloadStatus {
    /// Whether this process reloads at all (it was started from files).
    pub enabled: bool,
    /// Sets applied so far (1: the one loaded at start).
    pub generation: u64,
    /// Tenants in the running set.
    pub tenants: usize,
    /// The last reload attempt.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The last time a changed set was applied.
    pub last_applied_at: Option<DateTime<Utc>>,
    /// Why the last attempt was refused (the running set was kept); absent
    /// when it succeeded.
    pub last_error: Option<String>,
}
