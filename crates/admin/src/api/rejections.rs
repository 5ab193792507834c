//! Rejected requests: search, one with its stored request, re-admission.

use super::{audited, Page};
use crate::auth::{Operator, Reader};
use crate::error::{ApiError, ErrorBody};
use crate::AdminState;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
pub use hookgate_api_types::{ReadmitResult, RejectionDetail};
use hookgate_ingress::readmit::{NotReadmitted, Readmitted, StoredRequest};
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
    if let Some(t) = &query.tenant {
        caller.tenant(t)?;
    }
    let filter = RejectionFilter {
        tenant: query.tenant.clone(),
        source: query.source.clone(),
        reason: query.reason.clone(),
        since: query.since,
        until: query.until,
    };
    let window = super::page_window(&caller, query.cursor.as_deref(), query.limit)?;
    let items = state.store.rejections_matching(&filter, &window).await?;
    Ok(HttpResponse::Ok().json(Page::new(items, window.limit, |r| r.id)))
}

async fn rejection_of(
    state: &AdminState,
    caller: &crate::auth::Caller,
    id: i64,
) -> Result<(RejectionSummary, serde_json::Value, Vec<u8>), ApiError> {
    state
        .store
        .rejection(id)
        .await?
        .filter(|(r, _, _)| match &r.tenant {
            Some(t) => caller.sees(t),
            None => caller.limit().is_none(),
        })
        .ok_or_else(|| ApiError::not_found(format!("no rejection {id}")))
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
    let (rejection, headers, body) = rejection_of(&state, &caller, id.into_inner()).await?;
    let payload = (caller.payload_reader())
        .map(|allowed| super::notifications::payload(&allowed, headers, &body, rejection.remote_addr.clone(), None));
    Ok(HttpResponse::Ok().json(RejectionDetail { rejection, payload }))
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
    let id = id.into_inner();
    let (rejection, headers, body) = rejection_of(&state, &caller, id).await?;
    let tenant = rejection.tenant.clone();
    audited(
        &state,
        &caller,
        "rejection.readmit",
        tenant.as_deref(),
        Some(id.to_string()),
        serde_json::json!({}),
        || async {
            if let Some(n) = rejection.readmitted_as {
                return Err(ApiError::conflict(format!(
                    "rejection {id} was re-admitted already as notification {n}"
                )));
            }
            let (Some(tenant), Some(source)) = (rejection.tenant.as_deref(), rejection.source.as_deref()) else {
                return Err(ApiError::unprocessable(
                    "the request named no configured tenant and source",
                ));
            };
            let stored = StoredRequest {
                tenant,
                source,
                headers: &headers,
                body: &body,
                body_size: rejection.body_size,
                request_url: rejection.request_url.as_deref(),
                remote_addr: rejection.remote_addr.as_deref(),
                received_at: rejection.received_at,
            };
            let tenants = state.tenants();
            let (outcome, notification_id) =
                match hookgate_ingress::readmit::readmit(&tenants, &state.store, stored).await {
                    Ok(Readmitted::Stored { id }) => ("stored", id),
                    Ok(Readmitted::AlreadyStored { id }) => ("already_stored", id),
                    Err(NotReadmitted::Store(e)) => return Err(e.into()),
                    Err(e) => return Err(ApiError::unprocessable(e.to_string())),
                };
            state.store.mark_readmitted(id, notification_id).await?;
            Ok((
                200,
                serde_json::to_value(ReadmitResult {
                    outcome: outcome.to_owned(),
                    notification_id,
                })
                .unwrap_or_default(),
            ))
        },
    )
    .await
}

/// Registers this module's routes (each also an OpenAPI operation).
pub(crate) fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(show).service(readmit);
}
