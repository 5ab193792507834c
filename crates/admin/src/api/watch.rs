//! Source health and incidents: see them (`read`), move them (`operate`,
//! audited).

use super::Page;
use crate::auth::{Operator, Reader};
use crate::error::{ApiError, ErrorBody};
use crate::ops;
use crate::AdminState;
use actix_web::{get, post, web, HttpResponse};
pub use hookgate_api_types::{Incident, IncidentDetail, SourceHealth};
use serde::Deserialize;

/// What assesses the sources for the admin plane (the composition root's
/// evaluator, which also keeps the gauges).
pub trait Health: Send + Sync + std::fmt::Debug {
    /// Every configured source's health now.
    fn assess(
        &self,
    ) -> futures_util::future::BoxFuture<'_, Result<hookgate_watch::Assessment, hookgate_store::StoreError>>;
}

/// Query of `GET /v1/sources/health`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HealthQuery {
    /// Only this tenant's sources.
    pub tenant: Option<String>,
}

/// Every configured source's health: quiet by its cadence or learned
/// baseline, refused by a cause, learning, or outside its active hours.
#[utoipa::path(operation_id = "sourceHealth", tag = "watch", params(HealthQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<SourceHealth>), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[get("/sources/health")]
pub(crate) async fn health(
    caller: Reader,
    state: web::Data<AdminState>,
    query: web::Query<HealthQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ops::source_health(&state, &caller, query.tenant.as_deref()).await?))
}

/// Query of `GET /v1/incidents`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct IncidentQuery {
    /// `active` (default: open, acknowledged or ignored and not over) or `all`.
    pub scope: Option<String>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this tenant's.
    pub tenant: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

/// Incidents, newest first. A token limited to tenants sees only theirs
/// (not those of the whole gateway).
#[utoipa::path(operation_id = "listIncidents", tag = "watch", params(IncidentQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Incident>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/incidents")]
pub(crate) async fn list(
    caller: Reader,
    state: web::Data<AdminState>,
    query: web::Query<IncidentQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let active = match q.scope.as_deref() {
        None | Some("active") => true,
        Some("all") => false,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "scope {other:?}: expected active or all"
            )))
        }
    };
    let page = ops::incidents(
        &state,
        &caller,
        active,
        q.kind.as_deref(),
        q.tenant.as_deref(),
        q.cursor.as_deref(),
        q.limit,
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One incident with its transitions.
#[utoipa::path(operation_id = "showIncident", tag = "watch",
    params(("id" = i64, Path, description = "Incident id")), security(("bearer" = [])),
    responses((status = 200, body = IncidentDetail), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/incidents/{id}")]
pub(crate) async fn show(
    caller: Reader,
    state: web::Data<AdminState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ops::incident(&state, &caller, id.into_inner()).await?))
}

/// Acknowledges an open incident: someone is on it (an operator event
/// `<kind>.acknowledged`). 409 when its state does not allow it.
#[utoipa::path(operation_id = "acknowledgeIncident", tag = "watch",
    params(("id" = i64, Path, description = "Incident id")), security(("bearer" = [])),
    responses((status = 200, body = IncidentDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/incidents/{id}/acknowledge")]
pub(crate) async fn acknowledge(
    caller: Operator,
    state: web::Data<AdminState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let to = hookgate_watch::State::Acknowledged;
    Ok(HttpResponse::Ok().json(ops::change_incident(&state, &caller, id.into_inner(), to).await?))
}

/// Resolves an incident by hand (the evaluator opens a new one if the
/// condition is still seen).
#[utoipa::path(operation_id = "resolveIncident", tag = "watch",
    params(("id" = i64, Path, description = "Incident id")), security(("bearer" = [])),
    responses((status = 200, body = IncidentDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/incidents/{id}/resolve")]
pub(crate) async fn resolve(
    caller: Operator,
    state: web::Data<AdminState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let to = hookgate_watch::State::Resolved;
    Ok(HttpResponse::Ok().json(ops::change_incident(&state, &caller, id.into_inner(), to).await?))
}

/// Ignores an incident while its condition lasts (no further events; it
/// closes quietly when the condition ends).
#[utoipa::path(operation_id = "ignoreIncident", tag = "watch",
    params(("id" = i64, Path, description = "Incident id")), security(("bearer" = [])),
    responses((status = 200, body = IncidentDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/incidents/{id}/ignore")]
pub(crate) async fn ignore(
    caller: Operator,
    state: web::Data<AdminState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let to = hookgate_watch::State::Ignored;
    Ok(HttpResponse::Ok().json(ops::change_incident(&state, &caller, id.into_inner(), to).await?))
}

/// Registers this module's routes (each also an OpenAPI operation).
pub(crate) fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(health)
        .service(list)
        .service(show)
        .service(acknowledge)
        .service(resolve)
        .service(ignore);
}
