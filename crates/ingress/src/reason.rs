//! Why a webhook request is refused: one closed set, each reason with its
//! label (metric label `hookgate_webhooks_rejected_total{reason}` and the
//! `rejections.reason` column) and the HTTP status it is answered with.

use actix_web::http::StatusCode;

/// Label used in metrics for path segments that name nothing configured.
pub(crate) const UNKNOWN: &str = "unknown";

/// A refusal reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// The path names no configured tenant.
    UnknownTenant,
    /// The tenant has no such source.
    UnknownSource,
    /// Another method than POST on a webhook URL.
    MethodNotAllowed,
    /// A path no route serves.
    NoRoute,
    /// The client address is not in the source's allowlist.
    IpNotAllowed,
    /// Basic credentials missing or wrong.
    BadBasicAuth,
    /// The source's token header missing or wrong.
    BadToken,
    /// The body is over the source's limit.
    BodyTooLarge,
    /// The body could not be read (connection or framing error).
    BodyReadError,
    /// The body did not arrive within `http.body_read_timeout_ms`.
    BodyTimeout,
    /// Required fields missing or malformed.
    BadRequest,
    /// A payload that must be JSON is not.
    NotJson,
    /// The provider's signature is absent.
    MissingSignature,
    /// The provider's signature does not verify.
    BadSignature,
    /// The signature does not verify at a source none of whose deliveries
    /// has verified yet, with candidate recipes (Keeta): the recipe may be
    /// what is wrong. Kept whole for re-admission.
    NoRecipeMatchedYet,
    /// The signed timestamp is outside the tolerance.
    StaleTimestamp,
    /// The delivery names another account than the source's (the label
    /// comes from its provider, e.g. `app_id_mismatch`).
    AccountMismatch(&'static str),
    /// The source has no key to verify the signature with: the operator must
    /// configure or register one; the provider's retries pass once it is there.
    NoVerificationKey,
    /// The database refused this one request (its neighbours committed).
    StorageRefused,
    /// The database is unavailable.
    StorageUnavailable,
    /// Shed: in-flight or body-memory budget spent, or the worker runs late.
    Overloaded,
}

impl Reason {
    /// The label in metrics and rows.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reason::UnknownTenant => "unknown_tenant",
            Reason::UnknownSource => "unknown_source",
            Reason::MethodNotAllowed => "method_not_allowed",
            Reason::NoRoute => "no_route",
            Reason::IpNotAllowed => "ip_not_allowed",
            Reason::BadBasicAuth => "bad_basic_auth",
            Reason::BadToken => "bad_token",
            Reason::BodyTooLarge => "body_too_large",
            Reason::BodyReadError => "body_read_error",
            Reason::BodyTimeout => "body_timeout",
            Reason::BadRequest => "bad_request",
            Reason::NotJson => "not_json",
            Reason::MissingSignature => "missing_signature",
            Reason::BadSignature => "bad_signature",
            Reason::NoRecipeMatchedYet => "no_recipe_matched_yet",
            Reason::StaleTimestamp => "stale_timestamp",
            Reason::AccountMismatch(label) => label,
            Reason::NoVerificationKey => "no_verification_key",
            Reason::StorageRefused => "storage_refused",
            Reason::StorageUnavailable => "storage_unavailable",
            Reason::Overloaded => "overloaded",
        }
    }

    /// The status the request is answered with.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Reason::UnknownTenant | Reason::UnknownSource | Reason::NoRoute => StatusCode::NOT_FOUND,
            Reason::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Reason::IpNotAllowed => StatusCode::FORBIDDEN,
            Reason::BadBasicAuth
            | Reason::BadToken
            | Reason::MissingSignature
            | Reason::BadSignature
            | Reason::NoRecipeMatchedYet
            | Reason::StaleTimestamp
            | Reason::AccountMismatch(_) => StatusCode::UNAUTHORIZED,
            Reason::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Reason::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Reason::BodyReadError | Reason::BadRequest | Reason::NotJson => StatusCode::BAD_REQUEST,
            Reason::StorageRefused => StatusCode::INTERNAL_SERVER_ERROR,
            Reason::StorageUnavailable | Reason::Overloaded | Reason::NoVerificationKey => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Reason::{self, *};
    use std::collections::HashSet;

    const ALL: [Reason; 23] = [
        UnknownTenant,
        UnknownSource,
        MethodNotAllowed,
        NoRoute,
        IpNotAllowed,
        BadBasicAuth,
        BadToken,
        BodyTooLarge,
        BodyReadError,
        BodyTimeout,
        BadRequest,
        NotJson,
        MissingSignature,
        BadSignature,
        NoRecipeMatchedYet,
        StaleTimestamp,
        AccountMismatch("app_id_mismatch"),
        AccountMismatch("client_id_mismatch"),
        AccountMismatch("partner_id_mismatch"),
        NoVerificationKey,
        StorageRefused,
        StorageUnavailable,
        Overloaded,
    ];

    #[test]
    fn labels_are_distinct_snake_case_and_statuses_are_errors() {
        let labels: HashSet<&str> = ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(labels.len(), ALL.len());
        for r in ALL {
            assert!(r.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{r:?}");
            assert!(r.status().is_client_error() || r.status().is_server_error(), "{r:?}");
        }
        assert_eq!(BadSignature.status().as_u16(), 401);
        assert_eq!(StorageUnavailable.status().as_u16(), 503);
        assert_eq!(StorageRefused.status().as_u16(), 500);
    }
}
