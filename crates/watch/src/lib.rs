//! Watchfulness: is a source quiet (by its cadence or its learned
//! baseline), is everything it sends refused, and which incidents open,
//! stay or resolve. Pure decisions: no IO, the clock is a parameter (so
//! tests move it), the facts come from the store and the loop that feeds
//! them runs in `crates/app`.

pub mod assess;
pub mod health;
pub mod incidents;

pub use assess::{assess, Assessment, Facts, HealthState, SourceHealth};
pub use health::{judge, words, Judge, Silence, SourceFacts};
pub use incidents::{decide, operator_event, routing_key, Active, Change, Condition, Key, Kind, Report, State};
