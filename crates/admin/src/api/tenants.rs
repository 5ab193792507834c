//! The configured tenants as the gateway runs them, and the audit log.

use super::Page;
use crate::auth::Reader;
use crate::error::{ApiError, ErrorBody};
use crate::ops;
use crate::AdminState;
use actix_web::{get, web, HttpResponse};
pub use hookgate_api_types::{SigningKeys, TenantView};
use hookgate_store::AuditEntry;
use serde::Deserialize;

/// Tenants and their sources as the gateway runs them now: URLs, kinds,
/// verification, subscriptions and registrations; secrets never shown.
#[utoipa::path(operation_id = "listTenants", tag = "tenants", security(("bearer" = [])),
    responses((status = 200, body = Vec<TenantView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/tenants")]
pub(crate) async fn list(caller: Reader, state: web::Data<AdminState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ops::tenants(&state, &caller).await?))
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
    Ok(HttpResponse::Ok().json(ops::audit(&state, &caller, query.cursor.as_deref(), query.limit).await?))
}

/// Query of `GET /v1/signing-keys`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SigningKeysQuery {
    /// The tenant whose keys to list.
    pub tenant: String,
}

/// The keys a tenant's published messages are signed with (`[signing]` of
/// its file): each Ed25519 key's public half, to verify `v1a` signatures
/// with; each HMAC secret's id only. Consumers verify the Standard Webhooks
/// headers of every message with them (docs/events.md).
#[utoipa::path(operation_id = "listSigningKeys", tag = "tenants", params(SigningKeysQuery), security(("bearer" = [])),
    responses((status = 200, body = SigningKeys), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/signing-keys")]
pub(crate) async fn signing_keys(
    caller: Reader,
    state: web::Data<AdminState>,
    query: web::Query<SigningKeysQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ops::signing_keys(&state, &caller, &query.tenant)?))
}

/// Registers this module's routes (each also an OpenAPI operation).
pub(crate) fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(audit).service(signing_keys);
}
