//! The configuration reload: its status, and a reload on request.

use super::audited;
use crate::auth::{Operator, Reader};
use crate::error::{ApiError, ErrorBody};
use crate::AdminState;
use actix_web::{get, post, web, HttpResponse};
pub use hookgate_api_types::ReloadStatus;

/// What reloads the tenant files for the admin API (the composition root).
pub trait Reload: Send + Sync + std::fmt::Debug {
    /// The status now.
    fn status(&self) -> ReloadStatus;
    /// Reloads now and returns the status after it.
    fn reload(&self) -> futures_util::future::BoxFuture<'_, ReloadStatus>;
}

/// How the last reload went.
#[utoipa::path(operation_id = "reloadStatus", tag = "config", security(("bearer" = [])),
    responses((status = 200, body = ReloadStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/config/reload")]
pub(crate) async fn reload_status(_caller: Reader, state: web::Data<AdminState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.reload.as_ref().map(|r| r.status()).unwrap_or_default()))
}

/// Reloads the tenant files now (as `SIGHUP` does): the new set is
/// validated as a whole and swapped in atomically, or refused and the
/// running one kept (`last_error` says why; the answer is 422).
#[utoipa::path(operation_id = "reloadConfiguration", tag = "config", security(("bearer" = [])),
    responses((status = 200, body = ReloadStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
               (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/config/reload")]
pub(crate) async fn reload(caller: Operator, state: web::Data<AdminState>) -> Result<HttpResponse, ApiError> {
    audited(
        &state,
        &caller,
        "config.reload",
        None,
        None,
        serde_json::json!({}),
        || async {
            if caller.limit().is_some() {
                state.metrics.admin_refused("global_route");
                return Err(ApiError::forbidden(
                    "a reload replaces every tenant's configuration: a token limited to tenants may not reload",
                ));
            }
            let Some(reloader) = state.reload.as_ref() else {
                return Err(ApiError::conflict(
                    "this process was not started from configuration files",
                ));
            };
            let status = reloader.reload().await;
            if let Some(e) = &status.last_error {
                return Err(ApiError::unprocessable(format!(
                    "the running configuration was kept: {e}"
                )));
            }
            Ok((200, serde_json::to_value(&status).unwrap_or_default()))
        },
    )
    .await
}

/// Registers this module's routes (each also an OpenAPI operation).
pub(crate) fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(reload_status).service(reload);
}
