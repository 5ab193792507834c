//! The admin API under `/v1`: every route authenticates its caller first
//! (bearer token → scopes and tenants), and every mutating route records
//! itself in the audit log, refusals included.

pub(crate) mod notifications;
pub(crate) mod operations;
pub(crate) mod rejections;
pub mod reload;
pub(crate) mod retention;
pub(crate) mod tenants;
pub mod watch;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::AdminState;
use actix_web::HttpResponse;
pub use hookgate_api_types::Page;
use hookgate_store::Window;

/// Default and largest page size.
pub(crate) const DEFAULT_LIMIT: i64 = 50;
pub(crate) const MAX_LIMIT: i64 = 500;

/// A page size from a query (default 50, at most 500).
pub(crate) fn limit(given: Option<i64>) -> Result<i64, ApiError> {
    match given {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad_request(format!(
            "limit {n} is not within 1..={MAX_LIMIT}"
        ))),
    }
}

/// The window of one page of a list: the caller's tenants, after the
/// query's cursor, its page size.
pub(crate) fn page_window(
    caller: &Caller,
    cursor_given: Option<&str>,
    limit_given: Option<i64>,
) -> Result<Window, ApiError> {
    Ok(Window {
        tenants: caller.limit(),
        before: cursor(cursor_given)?,
        limit: limit(limit_given)?,
        ..Window::default()
    })
}

/// A cursor from a query.
pub(crate) fn cursor(given: Option<&str>) -> Result<Option<i64>, ApiError> {
    given
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| ApiError::bad_request(format!("cursor {c:?} is not one this API gave")))
        })
        .transpose()
}

/// Runs a mutating call as `caller` and records it in the audit log with
/// its outcome (a refusal too), answering JSON with the call's status. See
/// [`crate::ops::audited`].
pub(crate) async fn audited<F, Fut>(
    state: &AdminState,
    caller: &Caller,
    action: &str,
    tenant: Option<&str>,
    target: Option<String>,
    request: serde_json::Value,
    call: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(u16, serde_json::Value), ApiError>>,
{
    let (status, body) = crate::ops::audited(state, caller, action, tenant, target, request, || async {
        let (status, body) = call().await?;
        Ok((status, (status, body)))
    })
    .await?;
    let status = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK);
    Ok(HttpResponse::build(status).json(body))
}

/// Registers the `/v1` routes: each resource module declares its own, and
/// the same declarations make the OpenAPI document (`crate::openapi`), so
/// no route can be served undocumented or documented unserved.
pub(crate) fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/v1")
            .configure(notifications::routes)
            .configure(operations::routes)
            .configure(rejections::routes)
            .configure(tenants::routes)
            .configure(reload::routes)
            .configure(retention::routes)
            .configure(watch::routes),
    );
}
