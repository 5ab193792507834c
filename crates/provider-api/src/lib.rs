//! Clients of the providers' management APIs, used by `hookgate register`:
//! BH (VelaFi / TruBit) webhook listeners with its `X-BH-TOKEN` session, and
//! Keeta's callback-URL registration signed with the Keeta request signature.
//!
//! Every call has a timeout; a provider's refusal comes back as
//! [`ApiError::Provider`] carrying the provider's own `code` and message. Each
//! request can also be described without sending it ([`ApiRequest`]), with
//! its secrets redacted, for `--dry-run`.

pub mod bh;
mod error;
pub mod keeta;
mod request;

pub use error::ApiError;
pub use request::ApiRequest;

/// Builds the HTTP client every provider client uses.
fn http_client(timeout: std::time::Duration) -> Result<reqwest::Client, ApiError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(std::time::Duration::from_secs(5)))
        .user_agent(concat!("hookgate/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ApiError::Transport {
            provider: "http",
            op: "client",
            message: e.to_string(),
        })
}

/// Now, milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
