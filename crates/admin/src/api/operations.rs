//! Changing what hookgate holds: replay (one notification, or a job over a
//! filter, planned first), cancelling a job, requeueing parked rows.

use super::Page;
use crate::auth::{Operator, Reader};
use crate::error::{ApiError, ErrorBody};
use crate::ops::{self, ReplayAnswer};
use crate::AdminState;
use actix_web::{get, post, web, HttpResponse};
pub use hookgate_api_types::{Plan, ReplayOne, ReplayRequest, RequeueAnswer, RequeueRequest};
use hookgate_store::ReplayJob;
use serde::Deserialize;

/// Replays one notification: normalized again from its stored raw request
/// with the current code and configuration, published again with the same
/// event ids (no dedupe), each message carrying `x-hookgate-replay-job`.
/// Runs as a one-notification job; answers the job.
#[utoipa::path(operation_id = "replayNotification", tag = "replay",
    params(("id" = i64, Path, description = "Notification id")),
    request_body(content = ReplayOne, description = "Optional: one queue only"),
    security(("bearer" = [])),
    responses((status = 202, body = ReplayJob), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/notifications/{id}/replay")]
pub(crate) async fn replay_one(
    caller: Operator,
    state: web::Data<AdminState>,
    id: web::Path<i64>,
    body: Option<web::Json<ReplayOne>>,
) -> Result<HttpResponse, ApiError> {
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    let job = ops::replay_notification(&state, &caller, id.into_inner(), &body).await?;
    Ok(HttpResponse::Accepted().json(job))
}

/// Replays the notifications a filter chooses. With `dry_run` (the
/// default) it answers the plan: how many, and the newest ten. Otherwise it
/// makes a job over exactly the notifications the plan would count now
/// (ids up to its `max_id`): stored in PostgreSQL, run at `rate_per_sec` by
/// the relays, surviving restarts, cancellable.
#[utoipa::path(operation_id = "createReplay", tag = "replay", request_body = ReplayRequest,
    security(("bearer" = [])),
    responses((status = 200, description = "The plan (dry run)", body = Plan),
               (status = 202, description = "The job", body = ReplayJob),
               (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[post("/replays")]
pub(crate) async fn create_replay(
    caller: Operator,
    state: web::Data<AdminState>,
    body: web::Json<ReplayRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(match ops::replay(&state, &caller, &body).await? {
        ReplayAnswer::Plan(plan) => HttpResponse::Ok().json(plan),
        ReplayAnswer::Job(job) => HttpResponse::Accepted().json(job),
    })
}

/// Query of `GET /v1/replays`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct JobsQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

/// Replay jobs, newest first.
#[utoipa::path(operation_id = "listReplays", tag = "replay", params(JobsQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<ReplayJob>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/replays")]
pub(crate) async fn list_replays(
    caller: Reader,
    state: web::Data<AdminState>,
    query: web::Query<JobsQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ops::replay_jobs(&state, &caller, query.cursor.as_deref(), query.limit).await?))
}

/// One replay job and its progress.
#[utoipa::path(operation_id = "showReplay", tag = "replay",
    params(("id" = i64, Path, description = "Job id")), security(("bearer" = [])),
    responses((status = 200, body = ReplayJob), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/replays/{id}")]
pub(crate) async fn show_replay(
    caller: Reader,
    state: web::Data<AdminState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ops::replay_job(&state, &caller, id.into_inner()).await?))
}

/// Cancels a job that has not finished (what it published stays published).
#[utoipa::path(operation_id = "cancelReplay", tag = "replay",
    params(("id" = i64, Path, description = "Job id")), security(("bearer" = [])),
    responses((status = 200, body = ReplayJob), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/replays/{id}/cancel")]
pub(crate) async fn cancel_replay(
    caller: Operator,
    state: web::Data<AdminState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ops::cancel_replay(&state, &caller, id.into_inner()).await?))
}

/// Puts parked notifications back in the queue: pending, due now, attempts
/// from zero. The relay normalizes them again with the code it runs now, so
/// a parser fix lets them flow. Plan first (`dry_run`, the default).
///
/// Ordering: a requeued notification keeps its place in its subject's
/// commit order. Later notifications of its subject that are still pending
/// wait for it; later ones already published are not published again, so
/// consumers see the requeued events after them.
#[utoipa::path(operation_id = "requeueParked", tag = "parked", request_body = RequeueRequest,
    security(("bearer" = [])),
    responses((status = 200, description = "The plan (dry run), or what was requeued", body = RequeueAnswer),
               (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[post("/parked/requeue")]
pub(crate) async fn requeue(
    caller: Operator,
    state: web::Data<AdminState>,
    body: web::Json<RequeueRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ops::requeue(&state, &caller, &body).await?))
}

/// Registers this module's routes (each also an OpenAPI operation).
pub(crate) fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(replay_one)
        .service(create_replay)
        .service(list_replays)
        .service(show_replay)
        .service(cancel_replay)
        .service(requeue);
}
