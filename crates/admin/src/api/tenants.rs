//! The configured tenants as the gateway runs them, and the audit log.

use super::Page;
use crate::auth::Reader;
use crate::error::{ApiError, ErrorBody};
use crate::AdminState;
use actix_web::{get, web, HttpResponse};
pub use hookgate_api_types::{SourceView, SubscriptionView, TenantView};
use hookgate_config::Verification;
use hookgate_store::AuditEntry;
use serde::Deserialize;

/// Tenants and their sources as the gateway runs them now: URLs, kinds,
/// verification, subscriptions and registrations; secrets never shown.
#[utoipa::path(operation_id = "listTenants", tag = "tenants", security(("bearer" = [])),
    responses((status = 200, body = Vec<TenantView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/tenants")]
pub(crate) async fn list(caller: Reader, state: web::Data<AdminState>) -> Result<HttpResponse, ApiError> {
    let tenants = state.tenants();
    let mut views = Vec::new();
    for t in tenants.iter().filter(|t| caller.sees(t.id.as_str())) {
        let registrations = state.store.registrations(t.id.as_str()).await?;
        let sources = t
            .sources
            .values()
            .map(|s| SourceView {
                id: s.id.to_string(),
                kind: s.kind.as_str().to_owned(),
                url: s.settings.callback_url().map_or_else(
                    || format!("{}/hooks/{}/{}", state.public_base_url, t.id, s.id),
                    str::to_owned,
                ),
                paths: s.paths.clone(),
                verification: match s.verification {
                    Verification::Enforce => "enforce",
                    Verification::Observe => "observe",
                }
                .to_owned(),
                body_limit_bytes: s.body_limit_bytes,
            })
            .collect();
        views.push(TenantView {
            id: t.id.to_string(),
            exchange: t.exchange.clone(),
            vhost: t.vhost.clone(),
            hosts: t.hosts.clone(),
            sources,
            subscriptions: t
                .subscriptions
                .iter()
                .map(|s| SubscriptionView {
                    queue: s.queue.clone(),
                    bindings: s.bindings.clone(),
                })
                .collect(),
            registrations,
        });
    }
    Ok(HttpResponse::Ok().json(views))
}

/// Query of `GET /v1/audit`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

/// Every mutating admin call (token name, action, request, result, time),
/// newest first.
#[utoipa::path(operation_id = "listAudit", tag = "audit", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<AuditEntry>), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/audit")]
pub(crate) async fn audit(
    caller: Reader,
    state: web::Data<AdminState>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let window = super::page_window(&caller, query.cursor.as_deref(), query.limit)?;
    let items = state.store.audit(&window).await?;
    Ok(HttpResponse::Ok().json(Page::new(items, window.limit, |a| a.id)))
}

/// Registers this module's routes (each also an OpenAPI operation).
pub(crate) fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(audit);
}
