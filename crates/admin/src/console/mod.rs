//! The operator console: server-rendered pages on the admin listener at
//! `/`, over the same operations layer (`crate::ops`) and the same auth
//! extractors as the JSON API, with a session cookie instead of a bearer
//! token (`session.rs`) and a CSRF token on every form (`csrf.rs`).
//!
//! One handler per page renders an askama template (`templates/`) from a
//! typed view model; live parts are partials that htmx refreshes; every
//! page reads without JavaScript. Assets are embedded in the binary.
//! An error answers an HTML page with the API's message (401: the sign-in
//! page), never a cause chain.

pub(crate) mod csrf;
mod format;
mod pages;
pub(crate) mod session;

use crate::auth::{Caller, Credentials};
use crate::error::ApiError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use askama::Template;
use hookgate_config::AdminScope;

/// Who is looking, as every page's frame shows it.
#[derive(Debug, Clone)]
pub(crate) struct Me {
    /// Token name.
    pub name: String,
    /// May act (replay, requeue, readmit, cancel): buttons are shown.
    pub operate: bool,
    /// Limited to these tenants.
    pub tenants: Option<Vec<String>>,
    /// The session's CSRF token (every form carries it).
    pub csrf: String,
}

impl Me {
    pub(crate) fn of(caller: &Caller) -> Me {
        Me {
            name: caller.name.clone(),
            operate: caller.has(AdminScope::Operate),
            tenants: caller.limit(),
            csrf: caller.csrf.clone().unwrap_or_default(),
        }
    }
}

/// A rendered page (or the error of rendering it).
pub(crate) fn render(page: &impl Template) -> Result<HttpResponse, ApiError> {
    let html = page.render().map_err(|e| {
        tracing::error!(error = %e, "console: a template did not render");
        ApiError::internal()
    })?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}

/// A redirect after a post (303: the browser GETs the target).
pub(crate) fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    reason: String,
    message: String,
}

/// Turns the API's JSON errors on console routes into pages: 401 goes to
/// the sign-in page (with where to come back), others show the message.
async fn html_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let back = req
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let is_get = req.method() == actix_web::http::Method::GET;
    let res = next.call(req).await?.map_into_boxed_body();
    let Some(e) = res.response().error().and_then(|e| e.as_error::<ApiError>()) else {
        return Ok(res);
    };
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::UNAUTHORIZED {
        let to = if is_get {
            format!("/sign-in?next={}", format::url_encode(&back))
        } else {
            "/sign-in".to_owned()
        };
        let response = HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish();
        return Ok(res.into_response(response));
    }
    let page = ErrorPage {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("error").to_owned(),
        message: e.message().to_owned(),
    };
    let html = page.render().unwrap_or_else(|_| e.message().to_owned());
    let response = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html);
    Ok(res.into_response(response))
}

const CSS: &str = include_str!("../../assets/console.css");
const JS: &str = include_str!("../../assets/console.js");
/// htmx 2.0.11 (Zero-Clause BSD, `assets/htmx.LICENSE`), from npm's `htmx.org`.
const HTMX: &str = include_str!("../../assets/htmx.min.js");

/// `GET /assets/{name}`: the console's stylesheet and scripts, from the binary.
async fn asset(name: web::Path<String>) -> HttpResponse {
    let (body, kind) = match name.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        "htmx.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        _ => {
            return HttpResponse::NotFound()
                .content_type("text/plain")
                .body("no such asset")
        }
    };
    HttpResponse::Ok()
        .content_type(kind)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

/// Security headers of every console answer: no framing, no sniffing, only
/// this origin's scripts and styles, no referrer leaving the gateway.
fn security_headers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ))
}

/// Registers the console (after the API: its scope takes every other path).
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .app_data(Credentials::Session)
            .wrap(actix_web::middleware::from_fn(html_errors))
            .wrap(security_headers())
            .route("/assets/{name}", web::get().to(asset))
            .configure(pages::routes)
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::not_found("no such page"))
            })),
    );
}
