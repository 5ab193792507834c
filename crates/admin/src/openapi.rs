//! The admin API's OpenAPI document (served at `/openapi.json`), collected
//! from the very services the listener registers (`api::configure`, through
//! utoipa-actix-web): a route is declared once, with its annotations.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "hookgate admin API",
        description = "Find, replay, requeue and re-admit webhooks; tenants; audit."
    ),
    components(schemas(crate::ErrorBody))
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

/// The document: the routes `api::configure` registers, with their
/// annotations, and the answers every route may give.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa_actix_web::AppExt;
    let (_, mut doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::api::configure)
        .split_for_parts();
    Bearer.modify(&mut doc);
    doc
}

/// The document as JSON (made once per process).
pub fn document() -> String {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOCUMENT
        .get_or_init(|| {
            openapi()
                .to_pretty_json()
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
        })
        .clone()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn every_registered_route_is_an_operation_with_its_own_id() {
        let doc = super::openapi();
        let mut ids = std::collections::HashSet::new();
        let mut operations = 0;
        for (path, item) in &doc.paths.paths {
            assert!(path.starts_with("/v1/") && !path.contains(':'), "{path}");
            for op in [&item.get, &item.post].into_iter().flatten() {
                operations += 1;
                let id = op.operation_id.clone().unwrap();
                assert!(ids.insert(id.clone()), "operation id {id} reused");
                assert!(op.responses.responses.contains_key("401"), "{path}: the shared answers");
            }
        }
        assert_eq!(operations, 28);
        assert!(doc.paths.paths.contains_key("/v1/subjects/{subject}/timeline"));
    }
}
