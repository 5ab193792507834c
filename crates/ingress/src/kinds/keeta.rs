//! Keeta general webhooks: `sig` in the body (DESIGN.md §4, PROVIDERS.md §1a).
//! Success is HTTP 200 `{"code":0,"message":"success","data":{}}`; any non-zero
//! `code` makes Keeta retry, so every failure carries the HTTP status as `code`.

use super::{Accepted, Refusal, RequestFacts};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use hookgate_config::{KeetaSource, Verification};
use hookgate_core::SignatureCheck;
use hookgate_normalizer::keeta::Envelope;
use hookgate_signature::keeta::{verify, Params, Urls, VerifyError};

pub(super) fn is_heartbeat(body: &[u8]) -> bool {
    hookgate_normalizer::keeta::is_heartbeat(body)
}

pub(super) fn authenticate(cfg: &KeetaSource, facts: &RequestFacts<'_>, body: &[u8]) -> Result<Accepted, Refusal> {
    let bad_request = |detail: String| Refusal::new(StatusCode::BAD_REQUEST, "bad_request", detail);
    let params = Params::from_json(body).map_err(|e| bad_request(e.to_string()))?;
    let envelope = Envelope::parse(body).map_err(|e| bad_request(e.to_string()))?;
    if let (Some(expected), Some(got)) = (cfg.app_id, envelope.app_id) {
        if expected != got {
            return Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "app_id_mismatch",
                "appId does not match this source",
            ));
        }
    }
    let secrets: Vec<&str> = cfg.app_secrets.iter().map(|s| s.expose()).collect();
    let urls = Urls {
        callback: &cfg.callback_url,
        request: Some(facts.request_url),
    };
    let check = match verify(&params, urls, &cfg.recipes, &secrets) {
        Ok(m) => {
            let recipe = if secrets.len() > 1 {
                format!("{}#secret{}", m.recipe.name(), m.secret_index)
            } else {
                m.recipe.name().to_owned()
            };
            SignatureCheck::Matched { recipe }
        }
        Err(e) if cfg.verification == Verification::Observe => SignatureCheck::Observed { reason: e.to_string() },
        Err(VerifyError::Missing) => {
            return Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "missing_signature",
                "missing sig",
            ));
        }
        Err(e) => return Err(Refusal::new(StatusCode::UNAUTHORIZED, "bad_signature", e.to_string())),
    };
    Ok(Accepted {
        delivery_key: envelope.delivery_key(body),
        check,
    })
}

pub(super) fn success() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"code":0,"message":"success","data":{}}"#)
}

pub(super) fn failure(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({ "code": status.as_u16(), "message": message }))
}
