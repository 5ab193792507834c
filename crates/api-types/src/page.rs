//! Pages of lists.

#![allow(unused_imports)]

use crate::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One page of a list, newest first; `next_cursor` continues it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page whose last item has id `last` when it is full.
    pub fn new(items: Vec<T>, limit: i64, id: impl Fn(&T) -> i64) -> Page<T> {
        let next_cursor = (items.len() as i64 >= limit)
            .then(|| items.last().map(|i| id(i).to_string()))
            .flatten();
        Page { items, next_cursor }
    }
}
