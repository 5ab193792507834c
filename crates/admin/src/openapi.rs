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
        crate::api::reload::status,
        crate::api::reload::reload,
        crate::api::retention::plan,
        crate::api::retention::run,
        crate::api::retention::partitions,
        crate::api::retention::erase,
    ),
    components(schemas(crate::ErrorBody)),
    modifiers(&Bearer)
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The bearer scheme, and the answers every route may give: 400 for a
/// malformed path, query or body, 401 and 403, 503 while the database is
/// unreachable (all with [`crate::ErrorBody`]).
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        let error = || {
            utoipa::openapi::ResponseBuilder::new()
                .description("An error: `{error, message}`")
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                item.get.as_mut(),
                item.post.as_mut(),
                item.put.as_mut(),
                item.delete.as_mut(),
                item.patch.as_mut(),
            ];
            for op in operations.into_iter().flatten() {
                for status in ["400", "401", "403", "503"] {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error().into());
                }
            }
        }
    }
}

/// The document as JSON.
pub fn document() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
