//! Reading notifications: search, one in full, a subject's timeline, parked rows.

use super::{limit, Page};
use crate::auth::Reader;
use crate::error::{ApiError, ErrorBody};
use crate::AdminState;
use actix_web::{get, web, HttpResponse};
use base64::Engine;
use chrono::{DateTime, Utc};
pub use hookgate_api_types::{NotificationDetail, Payload, Timeline, TimelineEntry};
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

/// A page of notifications the caller may see.
async fn page(
    state: &AdminState,
    caller: &crate::auth::Caller,
    query: &NotificationQuery,
    filter: NotificationFilter,
) -> Result<Page<NotificationSummary>, ApiError> {
    if let Some(t) = &filter.tenant {
        caller.tenant(t.as_str())?;
    }
    let window = super::page_window(caller, query.cursor.as_deref(), query.limit)?;
    let items = state.store.notifications(&filter, &window).await?;
    Ok(Page::new(items, window.limit, |n| n.id))
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
    Ok(HttpResponse::Ok().json(page(&state, &caller, &query, filter).await?))
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
    Ok(HttpResponse::Ok().json(page(&state, &caller, &query, filter).await?))
}

/// The raw request as shown: only a caller holding `read_payload` gets one.
pub(crate) fn payload(
    _allowed: &crate::auth::PayloadReader,
    headers: serde_json::Value,
    body: &[u8],
    remote_addr: Option<String>,
    traceparent: Option<String>,
) -> Payload {
    Payload {
        headers,
        body_text: std::str::from_utf8(body).ok().map(str::to_owned),
        body_base64: base64::engine::general_purpose::STANDARD.encode(body),
        remote_addr,
        traceparent,
    }
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
    let id = id.into_inner();
    let notification = state
        .store
        .notification_summary(id)
        .await?
        .filter(|n| caller.sees(&n.tenant))
        .ok_or_else(|| ApiError::not_found(format!("no notification {id}")))?;
    let events = state.store.events_of(&[id]).await?;
    let payload = match caller.payload_reader() {
        Some(allowed) => (state.store.notification_payload(id).await?)
            .map(|p| payload(&allowed, p.headers, &p.body, p.remote_addr, p.traceparent)),
        None => None,
    };
    Ok(HttpResponse::Ok().json(NotificationDetail {
        notification,
        events,
        payload,
    }))
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
    caller.tenant(&query.tenant)?;
    let limit = query.limit.map_or(Ok(super::MAX_LIMIT), |l| limit(Some(l)))?;
    let subject = subject.into_inner();
    let notifications = state
        .store
        .subject_notifications(&query.tenant, &subject, limit)
        .await?;
    let ids: Vec<i64> = notifications.iter().map(|n| n.id).collect();
    let mut events = state.store.events_of(&ids).await?;
    let entries = notifications
        .into_iter()
        .map(|notification| {
            let (mine, rest): (Vec<_>, Vec<_>) = events.drain(..).partition(|e| e.notification_id == notification.id);
            events = rest;
            TimelineEntry {
                notification,
                events: mine,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(Timeline {
        tenant: query.tenant.clone(),
        subject,
        entries,
    }))
}

/// Registers this module's routes (each also an OpenAPI operation).
pub(crate) fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(parked).service(show).service(timeline);
}
