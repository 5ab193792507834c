//! Ack contracts: what each provider must get back (DESIGN.md §4).
//!
//! | kind | success | failure |
//! |---|---|---|
//! | keeta | 200 `{"code":0,"message":"success","data":{}}` | status + `{"code":status,"message":..}` (non-zero `code` makes Keeta retry) |
//! | keeta-auth | 200 `{"code":0,"message":"success"}` | status + `{"status":status,"title":..}` |
//! | pagsmile-* | 200 `success` (text/plain) | status + text/plain message |
//! | bh | 200 `{"callbackStatus":"SUCCESS"}` | status + `{"callbackStatus":"FAIL"}` |
//! | standard-webhooks | 204, empty | status + `{"error":..}` |

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use hookgate_core::SourceKind;

pub(super) fn success(kind: SourceKind) -> HttpResponse {
    match kind {
        SourceKind::Keeta => json(StatusCode::OK, r#"{"code":0,"message":"success","data":{}}"#),
        SourceKind::KeetaAuth => json(StatusCode::OK, r#"{"code":0,"message":"success"}"#),
        SourceKind::PagsmileIssuing | SourceKind::PagsmilePayin | SourceKind::PagsmilePayout => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("success"),
        SourceKind::Bh => json(StatusCode::OK, r#"{"callbackStatus":"SUCCESS"}"#),
        SourceKind::StandardWebhooks => HttpResponse::NoContent().finish(),
    }
}

pub(super) fn failure(kind: Option<SourceKind>, status: StatusCode, message: &str) -> HttpResponse {
    match kind {
        Some(SourceKind::Keeta) | None => {
            HttpResponse::build(status).json(serde_json::json!({ "code": status.as_u16(), "message": message }))
        }
        Some(SourceKind::KeetaAuth) => {
            HttpResponse::build(status).json(serde_json::json!({ "status": status.as_u16(), "title": message }))
        }
        Some(SourceKind::PagsmileIssuing | SourceKind::PagsmilePayin | SourceKind::PagsmilePayout) => {
            HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body(message.to_owned())
        }
        Some(SourceKind::Bh) => json(status, r#"{"callbackStatus":"FAIL"}"#),
        Some(SourceKind::StandardWebhooks) => HttpResponse::build(status).json(serde_json::json!({ "error": message })),
    }
}

fn json(status: StatusCode, body: &'static str) -> HttpResponse {
    HttpResponse::build(status).content_type("application/json").body(body)
}
