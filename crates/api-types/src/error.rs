//! The body of every error answer.

#![allow(unused_imports)]

use crate::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The body of every error answer.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Machine-readable code: `unauthorized`, `forbidden`, `not_found`,
    /// `bad_request`, `conflict`, `unprocessable`, `unavailable`, `internal`.
    pub error: String,
    /// What went wrong, for people.
    pub message: String,
}
