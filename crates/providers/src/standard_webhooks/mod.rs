//! standard_webhooks

pub mod normalize;
pub mod signature;

pub use normalize::*;
