//! Changing what hookgate holds: replay (one notification, or a job over a
//! filter, planned first), cancelling a job, requeueing parked rows.

use super::{audited, Page};
use crate::auth::{Operator, Reader};
use crate::error::{ApiError, ErrorBody};
use crate::AdminState;
use actix_web::{get, post, web, HttpResponse};
pub use hookgate_api_types::{Plan, ReplayOne, ReplayRequest, RequeueAnswer, RequeueRequest, Requeued};
use hookgate_core::TenantId;
use hookgate_store::{NewReplayJob, NotificationFilter, ReplayJob, Window};
use serde::{Deserialize, Serialize};

/// Notifications shown in a plan.
const SAMPLE: i64 = 10;
/// Most parked rows one requeue call moves.
const REQUEUE_MAX: i64 = 10_000;

/// 400 unless `name` can be a queue name; 403 unless it is a queue of
/// `tenant`'s own subscriptions. A replay to one queue publishes through
/// the default exchange, which reaches ANY queue of the vhost: another
/// tenant's, or the shared unrouted queue. So only the queues the tenant's
/// configuration declares may be targeted, whoever asks.
fn check_queue(state: &AdminState, tenant: &str, name: Option<&str>) -> Result<(), ApiError> {
    let Some(q) = name else { return Ok(()) };
    if q.is_empty() || q.len() > 255 || q.contains('\0') {
        return Err(ApiError::bad_request(format!(
            "queue {q:?}: give the name of one of the tenant's subscription queues (1 to 255 bytes, no NUL)"
        )));
    }
    let tenants = state.tenants();
    let own = (tenants.get(tenant)).is_some_and(|t| t.subscriptions.iter().any(|s| s.queue == q));
    if !own {
        state.metrics.admin_refused("replay_queue");
        return Err(ApiError::forbidden(format!(
            "queue {q:?} is not a subscription queue of tenant {tenant:?}: a replay may only target the queues \
             the tenant's configuration declares ([[subscriptions]])"
        )));
    }
    Ok(())
}

async fn plan(state: &AdminState, filter: &NotificationFilter, window: &Window) -> Result<Plan, ApiError> {
    let (count, max_id) = state.store.count_notifications_matching(filter, window).await?;
    let sample_window = Window {
        limit: SAMPLE,
        ..window.clone()
    };
    let sample = state.store.notifications(filter, &sample_window).await?;
    Ok(Plan { count, max_id, sample })
}

fn json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

fn rate(state: &AdminState, given: Option<i32>) -> Result<i32, ApiError> {
    match given {
        None => Ok(state.replay_rate_per_sec),
        Some(r) if (1..=100_000).contains(&r) => Ok(r),
        Some(r) => Err(ApiError::bad_request(format!(
            "rate_per_sec {r} is not within 1..=100000"
        ))),
    }
}

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
    let id = id.into_inner();
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    let notification = state
        .store
        .notification_summary(id)
        .await?
        .filter(|n| caller.sees(&n.tenant))
        .ok_or_else(|| ApiError::not_found(format!("no notification {id}")))?;
    let tenant = notification.tenant.clone();
    let request = json(&body);
    audited(
        &state,
        &caller,
        "notification.replay",
        Some(&tenant),
        Some(id.to_string()),
        request,
        || async {
            check_queue(&state, &tenant, body.queue.as_deref())?;
            let filter = NotificationFilter {
                ids: Some(vec![id]),
                ..NotificationFilter::default()
            };
            let job = state
                .store
                .create_replay_job(&NewReplayJob {
                    tenant: &tenant,
                    filter: &filter,
                    target_queue: body.queue.as_deref(),
                    rate_per_sec: state.replay_rate_per_sec,
                    planned: 1,
                    max_id: id,
                    created_by: &caller.name,
                })
                .await?;
            Ok((202, json(&job)))
        },
    )
    .await
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
    let body = body.into_inner();
    let action = if body.dry_run { "replay.plan" } else { "replay.create" };
    let tenant = body.filter.tenant.clone();
    let request = json(&body);
    audited(
        &state,
        &caller,
        action,
        tenant.as_ref().map(TenantId::as_str),
        None,
        request,
        || async {
            let tenant = body
                .filter
                .tenant
                .as_ref()
                .map(TenantId::as_str)
                .ok_or_else(|| ApiError::bad_request("filter.tenant is required: a replay job is per tenant"))?;
            caller.tenant(tenant)?;
            check_queue(&state, tenant, body.queue.as_deref())?;
            let rate = rate(&state, body.rate_per_sec)?;
            let window = Window {
                limit: SAMPLE,
                ..Window::default()
            };
            let plan = plan(&state, &body.filter, &window).await?;
            if body.dry_run {
                return Ok((200, json(&plan)));
            }
            let Some(max_id) = plan.max_id else {
                return Err(ApiError::unprocessable("the filter chooses no notification"));
            };
            let job = state
                .store
                .create_replay_job(&NewReplayJob {
                    tenant,
                    filter: &body.filter,
                    target_queue: body.queue.as_deref(),
                    rate_per_sec: rate,
                    planned: plan.count,
                    max_id,
                    created_by: &caller.name,
                })
                .await?;
            Ok((202, json(&job)))
        },
    )
    .await
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
    let window = super::page_window(&caller, query.cursor.as_deref(), query.limit)?;
    let jobs = state.store.replay_jobs(&window).await?;
    Ok(HttpResponse::Ok().json(Page::new(jobs, window.limit, |j| j.id)))
}

async fn job_of(state: &AdminState, caller: &crate::auth::Caller, id: i64) -> Result<ReplayJob, ApiError> {
    state
        .store
        .replay_job(id)
        .await?
        .filter(|j| caller.sees(&j.tenant))
        .ok_or_else(|| ApiError::not_found(format!("no replay job {id}")))
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
    Ok(HttpResponse::Ok().json(job_of(&state, &caller, id.into_inner()).await?))
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
    let id = id.into_inner();
    let job = job_of(&state, &caller, id).await?;
    audited(
        &state,
        &caller,
        "replay.cancel",
        Some(&job.tenant),
        Some(id.to_string()),
        serde_json::json!({}),
        || async {
            let (cancelled, job) = state.store.cancel_replay_job(id).await?;
            let job = job.ok_or_else(|| ApiError::not_found(format!("no replay job {id}")))?;
            if !cancelled {
                return Err(ApiError::conflict(format!("job {id} already ended: {}", job.status)));
            }
            Ok((200, json(&job)))
        },
    )
    .await
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
    let body = body.into_inner();
    let action = if body.dry_run { "parked.plan" } else { "parked.requeue" };
    let tenant = body.filter.tenant.clone();
    let request = json(&body);
    audited(
        &state,
        &caller,
        action,
        tenant.as_ref().map(TenantId::as_str),
        None,
        request,
        || async {
            if let Some(t) = &tenant {
                caller.tenant(t.as_str())?;
            }
            let mut filter = body.filter.clone();
            filter.status = Some(hookgate_store::OutboxStatus::Parked);
            let window = Window {
                tenants: caller.limit(),
                limit: REQUEUE_MAX,
                ..Window::default()
            };
            if body.dry_run {
                return Ok((200, json(&RequeueAnswer::Plan(plan(&state, &filter, &window).await?))));
            }
            let ids = state.store.requeue_parked(&filter, &window).await?;
            Ok((
                200,
                json(&RequeueAnswer::Done(Requeued {
                    requeued: ids.len(),
                    ids,
                })),
            ))
        },
    )
    .await
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
