//! Keeta's request signature ("Authorization Guide",
//! <https://api-docs.mykeeta.com/apis/standard/docs/author>), which the guide
//! says also signs the webhooks Keeta pushes.
//!
//! `sig = lowercase_hex(SHA-256(URL + "?" + k1=v1&k2=v2... + AppSecret))` with
//! every parameter but `sig`, sorted by key in ASCII order, string values raw
//! (unquoted, unescaped), numbers as written, JSON objects as their compact
//! text, empty values kept (`k=`). It is plain SHA-256, not HMAC: the guide's
//! worked example proves it (see the test vector below).
//!
//! Which URL Keeta puts in front of a *push* is not documented (PROVIDERS.md,
//! open question 1), so [`Recipe`] lists the candidates; the verifier tries
//! them and records the one that matched.

use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// A candidate way of building the pre-image of a push signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Recipe {
    /// `callback_url + "?" + params + secret`: the documented request recipe
    /// applied to the registered callback URL. Tried first.
    CallbackUrlQuery,
    /// `callback_url + params + secret`: the guide's prose, which omits the `?`.
    CallbackUrlConcat,
    /// `request_url + "?" + params + secret`, with the URL the request arrived at.
    RequestUrlQuery,
    /// `request_url + params + secret`.
    RequestUrlConcat,
    /// `"?" + params + secret`: no URL.
    QueryParams,
    /// `params + secret`: no URL, no `?`.
    Params,
}

impl Recipe {
    /// All candidates, most likely first.
    pub const ALL: [Recipe; 6] = [
        Recipe::CallbackUrlQuery,
        Recipe::CallbackUrlConcat,
        Recipe::RequestUrlQuery,
        Recipe::RequestUrlConcat,
        Recipe::QueryParams,
        Recipe::Params,
    ];

    /// Stable name, used in configuration and recorded on stored rows.
    pub fn name(self) -> &'static str {
        match self {
            Recipe::CallbackUrlQuery => "callback_url?params+secret",
            Recipe::CallbackUrlConcat => "callback_url+params+secret",
            Recipe::RequestUrlQuery => "request_url?params+secret",
            Recipe::RequestUrlConcat => "request_url+params+secret",
            Recipe::QueryParams => "?params+secret",
            Recipe::Params => "params+secret",
        }
    }

    /// Parses a recipe name.
    pub fn parse(name: &str) -> Option<Recipe> {
        Recipe::ALL.into_iter().find(|r| r.name() == name)
    }

    fn prefix<'a>(self, urls: &Urls<'a>) -> Option<(&'a str, &'static str)> {
        match self {
            Recipe::CallbackUrlQuery => Some((urls.callback, "?")),
            Recipe::CallbackUrlConcat => Some((urls.callback, "")),
            // Skip the request-URL recipes when they would repeat the callback ones.
            Recipe::RequestUrlQuery => urls.request.filter(|r| *r != urls.callback).map(|r| (r, "?")),
            Recipe::RequestUrlConcat => urls.request.filter(|r| *r != urls.callback).map(|r| (r, "")),
            Recipe::QueryParams => Some(("", "?")),
            Recipe::Params => Some(("", "")),
        }
    }
}

/// The URLs a recipe may put in front of the parameters.
#[derive(Debug, Clone, Copy)]
pub struct Urls<'a> {
    /// The callback URL registered with Keeta for this source.
    pub callback: &'a str,
    /// The URL the request arrived at, when known and different.
    pub request: Option<&'a str>,
}

/// Why a body could not be turned into signature parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    /// The body is not a JSON object.
    #[error("body is not a JSON object: {0}")]
    NotAnObject(String),
}

/// The signed parameters of a Keeta JSON body: every top-level field but
/// `sig`, rendered and sorted, plus the `sig` that came with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    joined: String,
    sig: Option<String>,
}

impl Params {
    /// Extracts and renders the parameters of a JSON object body.
    pub fn from_json(body: &[u8]) -> Result<Params, ParamsError> {
        let fields: BTreeMap<String, &RawValue> =
            serde_json::from_slice(body).map_err(|e| ParamsError::NotAnObject(e.to_string()))?;
        Ok(Params::from_fields(&fields, body.len()))
    }

    /// The parameters of a body already parsed into its top-level fields
    /// (`capacity`: the body's length, to size the joined string once).
    pub fn from_fields(fields: &BTreeMap<String, &RawValue>, capacity: usize) -> Params {
        let mut joined = String::with_capacity(capacity);
        let mut sig = None;
        for (key, value) in fields {
            let rendered = render(value);
            if key == "sig" {
                sig = Some(rendered);
                continue;
            }
            if !joined.is_empty() {
                joined.push('&');
            }
            joined.push_str(key);
            joined.push('=');
            joined.push_str(&rendered);
        }
        Params { joined, sig }
    }

    /// The sorted `k=v&...` string.
    pub fn joined(&self) -> &str {
        &self.joined
    }

    /// The `sig` field of the body, if present (as text).
    pub fn sig(&self) -> Option<&str> {
        self.sig.as_deref()
    }
}

/// Renders one value the way the guide's example does: strings raw, `null` as
/// empty, anything else as its JSON text.
fn render(value: &RawValue) -> String {
    let text = value.get().trim();
    if text.starts_with('"') {
        serde_json::from_str::<String>(text).unwrap_or_default()
    } else if text == "null" {
        String::new()
    } else {
        text.to_owned()
    }
}

/// SHA-256 of `url + sep + params + secret`.
pub fn digest(url: &str, sep: &str, params: &str, secret: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(url.as_bytes());
    h.update(sep.as_bytes());
    h.update(params.as_bytes());
    h.update(secret.as_bytes());
    h.finalize().into()
}

/// Signs `params` with the documented recipe (`url?params+secret`), lowercase hex.
pub fn sign(url: &str, params: &Params, secret: &str) -> String {
    hex::encode(digest(url, "?", params.joined(), secret))
}

/// A successful match: which recipe and which of the secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    /// The recipe that reproduced the signature.
    pub recipe: Recipe,
    /// Index of the secret that matched (rotation windows hold several).
    pub secret_index: usize,
}

/// Why a push did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The body has no `sig`.
    #[error("missing sig")]
    Missing,
    /// `sig` is not 64 hex digits.
    #[error("sig is not a hex SHA-256 digest")]
    Malformed,
    /// No recipe and secret reproduce `sig`.
    #[error("sig does not match")]
    Mismatch,
}

/// Verifies the body's `sig` against each recipe and secret, in order.
pub fn verify(params: &Params, urls: Urls<'_>, recipes: &[Recipe], secrets: &[&str]) -> Result<Match, VerifyError> {
    let sig = params.sig().filter(|s| !s.is_empty()).ok_or(VerifyError::Missing)?;
    let expected = hookgate_signature::decode_hex(sig)
        .filter(|b| b.len() == 32)
        .ok_or(VerifyError::Malformed)?;
    for &recipe in recipes {
        let Some((url, sep)) = recipe.prefix(&urls) else {
            continue;
        };
        for (secret_index, secret) in secrets.iter().enumerate() {
            if hookgate_signature::ct_eq(&digest(url, sep, params.joined(), secret), &expected) {
                return Ok(Match { recipe, secret_index });
            }
        }
    }
    Err(VerifyError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Keeta's Authorization Guide, reproduced byte for byte.
    #[test]
    fn authorization_guide_vector() {
        let body = br#"{"accessToken":"abc","appId":123,"timestamp":"1682566749","shopId":123,
            "shopCategory":{"id":123,"name":"test","type":0,"description":null}}"#;
        let params = Params::from_json(body).unwrap();
        assert_eq!(
            params.joined(),
            r#"accessToken=abc&appId=123&shopCategory={"id":123,"name":"test","type":0,"description":null}&shopId=123&timestamp=1682566749"#
        );
        let url = "https://open.mykeeta.com/api/open/product/shopcategory/update";
        assert_eq!(
            sign(url, &params, "abc"),
            "48eb6d562bb0673e3db753831f032be237fc19d1e5c33fcb5386d89c0eebca86"
        );
    }

    fn push(sig: &str) -> Vec<u8> {
        format!(
            r#"{{"sig":"{sig}","eventId":1002,"appId":3762772727,"messageId":"1930106161957212198","shopId":145541,"message":"{{\"opTime\":1749008143025,\"orderViewId\":553440887574627,\"shopId\":145541,\"status\":30}}","timestamp":1749008143}}"#
        )
        .into_bytes()
    }

    const URL: &str = "https://gw.example.com/hooks/demo/keeta";

    #[test]
    fn push_params_render_message_as_its_json_text() {
        let params = Params::from_json(&push("x")).unwrap();
        assert_eq!(
            params.joined(),
            r#"appId=3762772727&eventId=1002&message={"opTime":1749008143025,"orderViewId":553440887574627,"shopId":145541,"status":30}&messageId=1930106161957212198&shopId=145541&timestamp=1749008143"#
        );
        assert_eq!(params.sig(), Some("x"));
    }

    #[test]
    fn each_candidate_recipe_is_recognised_and_named() {
        let unsigned = Params::from_json(&push("")).unwrap();
        let urls = Urls {
            callback: URL,
            request: Some("http://10.0.0.5:8080/hooks/demo/keeta"),
        };
        for recipe in Recipe::ALL {
            let (url, sep) = recipe.prefix(&urls).unwrap();
            let sig = hex::encode(digest(url, sep, unsigned.joined(), "s3cret"));
            let params = Params::from_json(&push(&sig)).unwrap();
            let m = verify(&params, urls, &Recipe::ALL, &["old", "s3cret"]).unwrap();
            assert_eq!(
                m,
                Match {
                    recipe,
                    secret_index: 1
                }
            );
            assert_eq!(Recipe::parse(recipe.name()), Some(recipe));
        }
    }

    #[test]
    fn uppercase_hex_is_accepted() {
        let unsigned = Params::from_json(&push("")).unwrap();
        let sig = sign(URL, &unsigned, "s").to_uppercase();
        let urls = Urls {
            callback: URL,
            request: None,
        };
        assert!(verify(&Params::from_json(&push(&sig)).unwrap(), urls, &Recipe::ALL, &["s"]).is_ok());
    }

    #[test]
    fn rejects_what_keeta_did_not_sign() {
        let urls = Urls {
            callback: URL,
            request: None,
        };
        let unsigned = Params::from_json(&push("")).unwrap();
        let good = sign(URL, &unsigned, "s");
        // Wrong secret.
        let p = Params::from_json(&push(&good)).unwrap();
        assert_eq!(verify(&p, urls, &Recipe::ALL, &["t"]), Err(VerifyError::Mismatch));
        // HMAC-SHA256 keyed by the secret is not Keeta's recipe.
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s").unwrap();
        mac.update(format!("{URL}?{}", unsigned.joined()).as_bytes());
        let hmac_sig = hex::encode(mac.finalize().into_bytes());
        let p = Params::from_json(&push(&hmac_sig)).unwrap();
        assert_eq!(verify(&p, urls, &Recipe::ALL, &["s"]), Err(VerifyError::Mismatch));
        // A recipe that is not enabled does not match.
        let p = Params::from_json(&push(&good)).unwrap();
        assert_eq!(verify(&p, urls, &[Recipe::Params], &["s"]), Err(VerifyError::Mismatch));
        // Tampered body.
        let tampered = String::from_utf8(push(&good))
            .unwrap()
            .replace("145541,\\\"status\\\":30", "145541,\\\"status\\\":50");
        let p = Params::from_json(tampered.as_bytes()).unwrap();
        assert_eq!(verify(&p, urls, &Recipe::ALL, &["s"]), Err(VerifyError::Mismatch));
        // Missing and malformed.
        assert_eq!(
            verify(&Params::from_json(b"{\"a\":1}").unwrap(), urls, &Recipe::ALL, &["s"]),
            Err(VerifyError::Missing)
        );
        assert_eq!(
            verify(&Params::from_json(&push("zz")).unwrap(), urls, &Recipe::ALL, &["s"]),
            Err(VerifyError::Malformed)
        );
    }

    #[test]
    fn non_objects_are_refused() {
        assert!(Params::from_json(b"[1,2]").is_err());
        assert!(Params::from_json(b"not json").is_err());
    }
}
