//! Retention (plan and run) and erasure.

use super::audited;
use crate::auth::{Operator, Reader};
use crate::error::{ApiError, ErrorBody};
use crate::retention::TenantRetention;
use crate::AdminState;
use actix_web::{get, post, web, HttpResponse};
pub use hookgate_api_types::ErasureRequest;
use hookgate_store::{Erased, ErasureScope, Partition};

/// What retention would remove now, per tenant (and for rejections naming
/// no configured tenant). A token limited to tenants sees theirs only.
#[utoipa::path(operation_id = "retentionPlan", tag = "retention", security(("bearer" = [])),
    responses((status = 200, body = Vec<TenantRetention>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/retention")]
pub(crate) async fn plan(caller: Reader, state: web::Data<AdminState>) -> Result<HttpResponse, ApiError> {
    let plan = crate::retention::plan(&state.store, &state.tenants(), &state.retention).await?;
    let visible: Vec<TenantRetention> = plan
        .into_iter()
        .filter(|r| match &r.tenant {
            Some(t) => caller.sees(t),
            None => caller.limit().is_none(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(visible))
}

/// The partitions of notifications, oldest first: their id ranges, when
/// each opened, its newest row and what holds it (pending or parked rows).
/// Partitions span every tenant: only a token not limited to tenants may
/// read them.
#[utoipa::path(operation_id = "listPartitions", tag = "retention", security(("bearer" = [])),
    responses((status = 200, body = Vec<Partition>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/partitions")]
pub(crate) async fn partitions(caller: Reader, state: web::Data<AdminState>) -> Result<HttpResponse, ApiError> {
    if caller.limit().is_some() {
        return Err(ApiError::forbidden(
            "partitions hold every tenant: a token limited to tenants may not read them",
        ));
    }
    Ok(HttpResponse::Ok().json(state.store.partitions().await?))
}

/// Applies retention now (as the background task does) for every tenant;
/// only a token not limited to tenants may.
#[utoipa::path(operation_id = "runRetention", tag = "retention", security(("bearer" = [])),
    responses((status = 200, body = Vec<TenantRetention>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[post("/retention/run")]
pub(crate) async fn run(caller: Operator, state: web::Data<AdminState>) -> Result<HttpResponse, ApiError> {
    audited(
        &state,
        &caller,
        "retention.run",
        None,
        None,
        serde_json::json!({}),
        || async {
            if caller.limit().is_some() {
                return Err(ApiError::forbidden(
                    "retention runs for every tenant: a token limited to tenants may not run it",
                ));
            }
            let done = crate::retention::apply(&state.store, &state.tenants(), &state.retention).await?;
            Ok((200, serde_json::to_value(done).unwrap_or_default()))
        },
    )
    .await
}

/// Erases stored payloads for a data-protection request: the body and
/// headers of a tenant's notifications of a subject or a time range (and,
/// for a time range, of its rejections). Each row stays as a tombstone with
/// its ids, times and event records; erased notifications are not replayed.
/// Pending notifications are skipped (their events are not out yet).
/// Counts first (`dry_run`, the default).
#[utoipa::path(operation_id = "erase", tag = "retention", request_body = ErasureRequest, security(("bearer" = [])),
    responses((status = 200, body = Erased), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody)))]
#[post("/erasures")]
pub(crate) async fn erase(
    caller: Operator,
    state: web::Data<AdminState>,
    body: web::Json<ErasureRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let action = if body.dry_run { "erasure.plan" } else { "erasure.run" };
    let request = serde_json::to_value(&body).unwrap_or_default();
    let tenant = body.tenant.clone();
    audited(
        &state,
        &caller,
        action,
        Some(&tenant),
        body.subject.clone(),
        request,
        || async {
            caller.tenant(&body.tenant)?;
            if body.subject.is_none() && body.since.is_none() && body.until.is_none() {
                return Err(ApiError::bad_request("give a subject or a time range (since, until)"));
            }
            let scope = ErasureScope {
                tenant: &body.tenant,
                subject: body.subject.as_deref(),
                since: body.since,
                until: body.until,
            };
            let erased = state.store.erase(&scope, body.dry_run).await?;
            Ok((200, serde_json::to_value(erased).unwrap_or_default()))
        },
    )
    .await
}

/// Registers this module's routes (each also an OpenAPI operation).
pub(crate) fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(plan).service(partitions).service(run).service(erase);
}
