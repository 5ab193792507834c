//! Reading notifications: search, one in full, a subject's timeline, parked rows.

use super::Page;
use crate::auth::Reader;
use crate::error::{ApiError, ErrorBody};
use crate::ops;
use crate::AdminState;
use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
pub use hookgate_api_types::{NotificationDetail, Timeline};
use hookgate_core::{SourceId, TenantId};
use hookgate_store::{NotificationFilter, NotificationSummary, OutboxStatus};
use serde::Deserialize;

/// Query of `GET /v1/notifications` (and, without `status`, `GET /v1/parked`).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct NotificationQuery {
    /// Tenant.
    #[param(value_type = Option<String>)]
    pub tenant: Option<TenantId>,
    /// Source id.
    #[param(value_type = Option<String>)]
    pub source: Option<SourceId>,
    /// `pending`, `published` or `parked`.
    pub status: Option<OutboxStatus>,
    /// Delivery key (the provider's delivery or event id, else the body's sha256).
    pub delivery_key: Option<String>,
    /// Subject, e.g. `order/553440887574627`.
    pub subject: Option<String>,
    /// Received at or after (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Received before (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

impl NotificationQuery {
    /// The filter it names, checked.
    pub(crate) fn filter(&self) -> Result<NotificationFilter, ApiError> {
        let filter = NotificationFilter {
            tenant: self.tenant.clone(),
            source: self.source.clone(),
            status: self.status,
            delivery_key: self.delivery_key.clone(),
            subject: self.subject.clone(),
            since: self.since,
            until: self.until,
            ids: None,
        };
        Ok(filter)
    }
}

/// Search notifications, newest first.
#[utoipa::path(operation_id = "listNotifications", tag = "notifications", params(NotificationQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Page<NotificationSummary>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/notifications")]
pub(crate) async fn list(
    caller: Reader,
    state: web::Data<AdminState>,
    query: web::Query<NotificationQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.filter()?;
    let page = ops::notifications(&state, &caller, &filter, query.cursor.as_deref(), query.limit).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Parked notifications (given up on after their attempts, or unreadable),
/// newest first, with their last error and attempt count.
#[utoipa::path(operation_id = "listParked", tag = "parked", params(NotificationQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Page<NotificationSummary>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/parked")]
pub(crate) async fn parked(
    caller: Reader,
    state: web::Data<AdminState>,
    query: web::Query<NotificationQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut filter = query.filter()?;
    filter.status = Some(OutboxStatus::Parked);
    let page = ops::notifications(&state, &caller, &filter, query.cursor.as_deref(), query.limit).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One notification in full: metadata, outbox state, events, and (with the
/// `read_payload` scope) its raw headers and body.
#[utoipa::path(operation_id = "showNotification", tag = "notifications",
    params(("id" = i64, Path, description = "Notification id")),
    security(("bearer" = [])),
    responses((status = 200, body = NotificationDetail), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/notifications/{id}")]
pub(crate) async fn show(
    caller: Reader,
    state: web::Data<AdminState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ops::notification(&state, &caller, id.into_inner()).await?))
}

/// Query of a timeline.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TimelineQuery {
    /// Tenant (subjects are per tenant).
    pub tenant: String,
    /// Most notifications (default 500, at most 500).
    pub limit: Option<i64>,
}

/// Every notification and event of a subject (e.g. `order/553440887574627`)
/// in commit order across sources: "what happened to this order?".
#[utoipa::path(operation_id = "subjectTimeline", tag = "notifications",
    params(("subject" = String, Path, description = "Subject, e.g. order/553440887574627 (its slash may be sent as is)"),
           TimelineQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Timeline), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/subjects/{subject:.+}/timeline")]
pub(crate) async fn timeline(
    caller: Reader,
    state: web::Data<AdminState>,
    subject: web::Path<String>,
    query: web::Query<TimelineQuery>,
) -> Result<HttpResponse, ApiError> {
    let timeline = ops::timeline(&state, &caller, &query.tenant, subject.into_inner(), query.limit).await?;
    Ok(HttpResponse::Ok().json(timeline))
}

/// Registers this module's routes (each also an OpenAPI operation).
pub(crate) fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(parked).service(show).service(timeline);
}
