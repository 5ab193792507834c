//! The provider signature of each kind (recipes in `hookgate-signature`).

use super::{Reason, RequestFacts, SignatureFailure};
use crate::keyring::RegisteredKey;
use hookgate_config::{Source, SourceAuth};
use hookgate_core::SignatureCheck;
use hookgate_providers::{
    bh::signature as bh, keeta::signature as keeta, keeta_auth::signature as keeta_auth,
    pagsmile::signature as pagsmile, standard_webhooks::signature as standard_webhooks,
};

fn fail(reason: Reason, detail: impl ToString) -> SignatureFailure {
    SignatureFailure {
        reason,
        detail: detail.to_string(),
    }
}

/// `missing_signature` when the credential is absent, `bad_signature` otherwise.
fn reason(missing: bool) -> Reason {
    if missing {
        Reason::MissingSignature
    } else {
        Reason::BadSignature
    }
}

/// Names the matched secret when a rotation window holds several.
fn matched(recipe: &str, index: usize, of: usize) -> SignatureCheck {
    let recipe = if of > 1 {
        format!("{recipe}#secret{index}")
    } else {
        recipe.to_owned()
    };
    SignatureCheck::Matched { recipe }
}

pub(super) fn signature(
    source: &Source,
    facts: &RequestFacts<'_>,
    body: &[u8],
    registered: &[RegisteredKey],
) -> Result<SignatureCheck, SignatureFailure> {
    match &source.auth {
        SourceAuth::Keeta(cfg) => {
            let params = keeta::Params::from_json(body).map_err(|e| fail(Reason::BadRequest, e))?;
            if let Some(expected) = cfg.app_id {
                let got = hookgate_providers::keeta::Envelope::parse(body)
                    .ok()
                    .and_then(|e| e.app_id);
                if got.is_some_and(|got| got != expected) {
                    return Err(fail(Reason::AppIdMismatch, "appId does not match this source"));
                }
            }
            let secrets: Vec<&str> = cfg.app_secrets.iter().map(|s| s.expose()).collect();
            let urls = keeta::Urls {
                callback: &cfg.callback_url,
                request: Some(facts.request_url),
            };
            keeta::verify(&params, urls, &cfg.recipes, &secrets)
                .map(|m| matched(m.recipe.name(), m.secret_index, secrets.len()))
                .map_err(|e| fail(reason(e == keeta::VerifyError::Missing), e))
        }
        SourceAuth::KeetaAuth(cfg) => {
            if let Some(expected) = cfg.client_id {
                let got = serde_json::from_slice::<serde_json::Value>(body)
                    .ok()
                    .and_then(|v| v.get("clientId").and_then(|c| c.as_i64()));
                if got.is_some_and(|got| got != expected) {
                    return Err(fail(Reason::ClientIdMismatch, "clientId does not match this source"));
                }
            }
            let secrets: Vec<&str> = cfg.client_secrets.iter().map(|s| s.expose()).collect();
            keeta_auth::verify(
                facts.header("x-app-signature"),
                body,
                &cfg.callback_url,
                &cfg.recipes,
                &secrets,
            )
            .map(|m| {
                matched(
                    &format!("{}/{}", m.recipe.name(), m.encoding),
                    m.secret_index,
                    secrets.len(),
                )
            })
            .map_err(|e| fail(reason(e == keeta_auth::VerifyError::Missing), e))
        }
        SourceAuth::PagsmileIssuing(_) => {
            // Pagsmile does not sign issuing webhooks; access controls ran already.
            let by = if source.access.is_configured() {
                "access-controls"
            } else {
                "unauthenticated"
            };
            Ok(SignatureCheck::NotRequired { by: by.to_owned() })
        }
        SourceAuth::PagsmilePayin(cfg) => {
            let secrets: Vec<&str> = cfg.secrets.iter().map(|s| s.expose()).collect();
            pagsmile::verify_payin(
                facts.header("pagsmile-signature"),
                body,
                &secrets,
                facts.now_secs,
                cfg.timestamp_tolerance_secs,
            )
            .map(|i| matched("hmac-sha256(body)", i, secrets.len()))
            .map_err(|e| {
                let r = match e {
                    pagsmile::VerifyError::Missing => Reason::MissingSignature,
                    pagsmile::VerifyError::Stale => Reason::StaleTimestamp,
                    _ => Reason::BadSignature,
                };
                fail(r, e)
            })
        }
        SourceAuth::PagsmilePayout(cfg) => {
            let keys: Vec<&str> = cfg.app_keys.iter().map(|s| s.expose()).collect();
            pagsmile::verify_payout(facts.header("authorization"), body, &keys)
                .map(|i| matched("sha256(sorted-params+app_key)", i, keys.len()))
                .map_err(|e| fail(reason(e == pagsmile::VerifyError::Missing), e))
        }
        SourceAuth::Bh(cfg) => bh_signature(facts.header("signature"), body, &cfg.public_keys, registered),
        SourceAuth::StandardWebhooks(cfg) => {
            let keys: Vec<Vec<u8>> = cfg.keys.iter().map(|k| k.expose().to_vec()).collect();
            standard_webhooks::verify(
                facts.header("webhook-id"),
                facts.header("webhook-timestamp"),
                facts.header("webhook-signature"),
                body,
                &keys,
                facts.now_secs,
                cfg.tolerance_secs,
            )
            .map(|i| matched("v1", i, keys.len()))
            .map_err(|e| {
                let r = match e {
                    standard_webhooks::VerifyError::Missing => Reason::MissingSignature,
                    standard_webhooks::VerifyError::Stale => Reason::StaleTimestamp,
                    _ => Reason::BadSignature,
                };
                fail(r, e)
            })
        }
    }
}

/// BH: the configured keys first, then those returned at registration (the
/// matched registered key is named by its fingerprint).
fn bh_signature(
    header: Option<&str>,
    body: &[u8],
    configured: &[bh::PublicKey],
    registered: &[RegisteredKey],
) -> Result<SignatureCheck, SignatureFailure> {
    if configured.is_empty() && registered.is_empty() {
        return Err(fail(
            reason(header.is_none()),
            "no public key is configured or registered for this source (run `hookgate register bh`)",
        ));
    }
    let first = bh::verify(header, body, configured);
    match first {
        Ok((i, enc)) => return Ok(matched(&format!("rsa-sha256/{enc}"), i, configured.len())),
        Err(e @ (bh::VerifyError::Missing | bh::VerifyError::Malformed)) => {
            return Err(fail(reason(e == bh::VerifyError::Missing), e))
        }
        Err(bh::VerifyError::Mismatch) => {}
    }
    for r in registered {
        if let Ok((_, enc)) = bh::verify(header, body, std::slice::from_ref(&r.key)) {
            return Ok(SignatureCheck::Matched {
                recipe: format!("rsa-sha256/{enc}#registered:{}", r.fingerprint),
            });
        }
    }
    Err(fail(Reason::BadSignature, bh::VerifyError::Mismatch))
}
