//! The admin API's OpenAPI document, generated from the handlers' and
//! types' annotations (served at `/openapi.json`).

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "hookgate admin API", description = "Find, replay, requeue and re-admit webhooks; tenants; audit."),
    paths(
        crate::api::notifications::list,
        crate::api::notifications::show,
        crate::api::notifications::timeline,
        crate::api::notifications::parked,
        crate::api::operations::replay_one,
        crate::api::operations::create_replay,
        crate::api::operations::list_replays,
        crate::api::operations::show_replay,
        crate::api::operations::cancel_replay,
        crate::api::operations::requeue,
        crate::api::rejections::list,
        crate::api::rejections::show,
        crate::api::rejections::readmit,
        crate::api::tenants::list,
        crate::api::tenants::audit,
    ),
    modifiers(&Bearer)
)]
#[derive(Debug)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The document as JSON.
pub fn document() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
