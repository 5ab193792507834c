//! CSRF by construction: every console action takes a [`CsrfForm`], which
//! reads the posted form and refuses it (403, counted) unless its `csrf`
//! field is the CSRF token of the caller's session (the refusal is
//! audited under the session's token). A handler cannot take a form any
//! other way.

use crate::auth::{identify, Refusal};
use crate::error::ApiError;
use crate::AdminState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use subtle::ConstantTimeEq;

/// Largest form the console accepts.
const MAX_FORM: usize = 64 * 1024;

/// A posted `application/x-www-form-urlencoded` form whose CSRF token was
/// checked. Fields keep their order; a field may repeat (checkboxes).
#[derive(Debug, Clone)]
pub(crate) struct CsrfForm {
    fields: Vec<(String, String)>,
}

impl CsrfForm {
    /// The first non-empty value of a field.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a field.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl FromRequest for CsrfForm {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AdminState>>()
                .cloned()
                .ok_or_else(|| ApiError::unauthorized("this listener has no console"))?;
            let caller = identify(&req, &state)?;
            let body = body
                .await
                .map_err(|e| ApiError::bad_request(format!("the form could not be read: {e}")))?;
            if body.len() > MAX_FORM {
                return Err(ApiError::bad_request("the form is too large"));
            }
            let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
                .map_err(|e| ApiError::bad_request(format!("the form could not be read: {e}")))?;
            let posted = (fields.iter().find(|(k, _)| k == "csrf")).map(|(_, v)| v.as_str());
            let ok = match (posted, caller.csrf.as_deref()) {
                (Some(p), Some(expected)) => bool::from(p.as_bytes().ct_eq(expected.as_bytes())),
                _ => false,
            };
            if !ok {
                state.metrics.admin_refused("console_csrf");
                let refused =
                    ApiError::forbidden("the form carries no valid CSRF token: reload the page and submit it again");
                return Err(Refusal::of(&req).record(&state, &caller, refused, "csrf".into()).await);
            }
            Ok(CsrfForm { fields })
        })
    }
}
