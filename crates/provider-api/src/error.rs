//! What can go wrong calling a provider.

/// A failed provider call. Messages name the provider and the operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The request did not complete: connect failure, timeout, TLS.
    #[error("{provider} {op}: {message}")]
    Transport {
        /// `bh` or `keeta`.
        provider: &'static str,
        /// Operation, e.g. `create webhook`.
        op: &'static str,
        /// Cause.
        message: String,
    },
    /// The provider answered and refused: its `code` and message as sent.
    #[error("{provider} {op}: refused with code {code}: {message} (HTTP {http_status})")]
    Provider {
        /// `bh` or `keeta`.
        provider: &'static str,
        /// Operation.
        op: &'static str,
        /// HTTP status of the answer.
        http_status: u16,
        /// The provider's `code`.
        code: String,
        /// The provider's `msg` / `message`.
        message: String,
    },
    /// The answer was not the documented shape.
    #[error("{provider} {op}: unexpected answer (HTTP {http_status}): {message}")]
    Unexpected {
        /// `bh` or `keeta`.
        provider: &'static str,
        /// Operation.
        op: &'static str,
        /// HTTP status of the answer.
        http_status: u16,
        /// What was wrong, with the start of the body.
        message: String,
    },
}

impl ApiError {
    /// The provider's code, when the provider refused.
    pub fn provider_code(&self) -> Option<&str> {
        match self {
            ApiError::Provider { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// The first bytes of a body, for error messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
    if body.len() > 300 {
        format!("{text}…")
    } else {
        text
    }
}
