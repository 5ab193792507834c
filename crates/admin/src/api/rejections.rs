//! Rejected requests: search, one with its stored request, re-admission.

use super::Page;
use crate::auth::{Operator, Reader};
use crate::error::{ApiError, ErrorBody};
use crate::ops;
use crate::AdminState;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
pub use hookgate_api_types::{ReadmitResult, RejectionDetail};
use hookgate_store::{RejectionFilter, RejectionSummary};
use serde::Deserialize;

/// Query of `GET /v1/rejections`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RejectionQuery {
    /// Tenant.
    pub tenant: Option<String>,
    /// Source id.
    pub source: Option<String>,
    /// Reason, e.g. `bad_signature`.
    pub reason: Option<String>,
    /// Received at or after (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Received before (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

/// Refused requests, newest first. A token limited to tenants sees only
/// theirs (not requests that named no configured tenant).
#[utoipa::path(operation_id = "listRejections", tag = "rejections", params(RejectionQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Page<RejectionSummary>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/rejections")]
pub(crate) async fn list(
    caller: Reader,
    state: web::Data<AdminState>,
    query: web::Query<RejectionQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = RejectionFilter {
        tenant: query.tenant.clone(),
        source: query.source.clone(),
        reason: query.reason.clone(),
        since: query.since,
        until: query.until,
    };
    let page = ops::rejections(&state, &caller, &filter, query.cursor.as_deref(), query.limit).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One rejection: why, and (with `read_payload`) the stored request.
#[utoipa::path(operation_id = "showRejection", tag = "rejections",
    params(("id" = i64, Path, description = "Rejection id")), security(("bearer" = [])),
    responses((status = 200, body = RejectionDetail), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/rejections/{id}")]
pub(crate) async fn show(
    caller: Reader,
    state: web::Data<AdminState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ops::rejection(&state, &caller, id.into_inner()).await?))
}

/// Re-admits a rejected request after a configuration fix (e.g. a rotated
/// secret): it is verified again under the running configuration, as at
/// the time it was received, and stored only if it now passes. 422 when it
/// is still refused (or cannot be checked: a credential header that was
/// redacted at receipt, a body cut at the source's limit).
#[utoipa::path(operation_id = "readmitRejection", tag = "rejections",
    params(("id" = i64, Path, description = "Rejection id")), security(("bearer" = [])),
    responses((status = 200, body = ReadmitResult), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/rejections/{id}/readmit")]
pub(crate) async fn readmit(
    caller: Operator,
    state: web::Data<AdminState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ops::readmit(&state, &caller, id.into_inner()).await?))
}

/// Registers this module's routes (each also an OpenAPI operation).
pub(crate) fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(show).service(readmit);
}
