//! Keeta store-authorization webhooks 1301/1302 (Open Delivery family, seed 000):
//! `X-App-Signature` is HMAC-SHA256 keyed by the client secret
//! (<https://api-docs.mykeeta.com/apis/opendelivery/authentication/receiveauthorizationwebhook.md>).
//! The signed string is not pinned down (PROVIDERS.md open question 10): the
//! raw body, its RFC 8785 canonical form, or either behind `URL + "&"`. The
//! output is Base64 per the Signature Calculation pages, hex is accepted too.

/// A candidate signed string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipe {
    /// HMAC over the raw body (tried first).
    Body,
    /// HMAC over the RFC 8785 (JCS) canonical body.
    BodyJcs,
    /// HMAC over `url + "&" + raw body`.
    UrlBody,
    /// HMAC over `url + "&" + canonical body`.
    UrlBodyJcs,
}

impl Recipe {
    /// All candidates, most likely first.
    pub const ALL: [Recipe; 4] = [Recipe::Body, Recipe::BodyJcs, Recipe::UrlBody, Recipe::UrlBodyJcs];

    /// Stable name (configuration, stored rows).
    pub fn name(self) -> &'static str {
        match self {
            Recipe::Body => "hmac(body)",
            Recipe::BodyJcs => "hmac(jcs(body))",
            Recipe::UrlBody => "hmac(url&body)",
            Recipe::UrlBodyJcs => "hmac(url&jcs(body))",
        }
    }

    /// Parses a recipe name.
    pub fn parse(name: &str) -> Option<Recipe> {
        Recipe::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// Why a push did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// No `X-App-Signature`.
    #[error("missing X-App-Signature")]
    Missing,
    /// Neither Base64 nor hex of a SHA-256 MAC.
    #[error("X-App-Signature is not a Base64 or hex HMAC-SHA256")]
    Malformed,
    /// No recipe and secret reproduce it.
    #[error("X-App-Signature does not match")]
    Mismatch,
}

/// What matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    /// Recipe.
    pub recipe: Recipe,
    /// Secret index.
    pub secret_index: usize,
    /// `base64` or `hex`.
    pub encoding: &'static str,
    /// A URL recipe matched over the URL the request arrived at, not the
    /// configured callback URL.
    pub request_url: bool,
}

/// RFC 8785 canonical JSON (keys sorted, compact). Numbers are re-emitted by
/// serde_json, which matches ECMAScript for the integers these payloads carry.
pub fn jcs(body: &[u8]) -> Option<Vec<u8>> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    serde_json::to_vec(&v).ok()
}

/// Base64 HMAC-SHA256 of the raw body: how `simulate` signs.
pub fn sign(body: &[u8], secret: &str) -> String {
    hookgate_signature::encode_base64(&hookgate_signature::hmac_sha256(secret.as_bytes(), &[body]))
}

/// Verifies `header` against each recipe and secret; the URL recipes try
/// each of `urls` (the configured callback URL first, then the URL the
/// request arrived at, when it differs: Keeta may call a fixed path on the
/// tenant's host rather than the configured one). The match says which URL.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    urls: &[&str],
    recipes: &[Recipe],
    secrets: &[&str],
) -> Result<Match, VerifyError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(VerifyError::Missing)?;
    let (expected, encoding) = hookgate_signature::decode_digest(header, 32).ok_or(VerifyError::Malformed)?;
    let canonical = jcs(body);
    let mut distinct: Vec<&str> = Vec::with_capacity(urls.len());
    for u in urls {
        if !distinct.contains(u) {
            distinct.push(u);
        }
    }
    for &recipe in recipes {
        let candidates: Vec<(Option<usize>, Vec<&[u8]>)> = match recipe {
            Recipe::Body => vec![(None, vec![body])],
            Recipe::BodyJcs => match &canonical {
                Some(c) => vec![(None, vec![c.as_slice()])],
                None => continue,
            },
            Recipe::UrlBody => (distinct.iter().enumerate())
                .map(|(i, u)| (Some(i), vec![u.as_bytes(), b"&", body]))
                .collect(),
            Recipe::UrlBodyJcs => match &canonical {
                Some(c) => (distinct.iter().enumerate())
                    .map(|(i, u)| (Some(i), vec![u.as_bytes(), b"&", c.as_slice()]))
                    .collect(),
                None => continue,
            },
        };
        for (url, message) in candidates {
            for (secret_index, secret) in secrets.iter().enumerate() {
                if hookgate_signature::ct_eq(&hookgate_signature::hmac_sha256(secret.as_bytes(), &message), &expected) {
                    return Ok(Match {
                        recipe,
                        secret_index,
                        encoding,
                        request_url: url.is_some_and(|i| i > 0),
                    });
                }
            }
        }
    }
    Err(VerifyError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"shopName":"10 Shanghai","clientId":2666245991,"authId":"41008","opType":1,"shopId":478268,"createTime":1753151456973}"#;

    #[test]
    fn every_recipe_and_both_encodings_verify() {
        let url = "https://gw.example/hooks/demo/keeta-auth";
        let canonical = jcs(BODY).unwrap();
        assert!(canonical.starts_with(br#"{"authId":"41008","clientId":2666245991"#));
        for recipe in Recipe::ALL {
            let msg: Vec<u8> = match recipe {
                Recipe::Body => BODY.to_vec(),
                Recipe::BodyJcs => canonical.clone(),
                Recipe::UrlBody => [url.as_bytes(), b"&", BODY].concat(),
                Recipe::UrlBodyJcs => [url.as_bytes(), b"&", &canonical].concat(),
            };
            let mac = hookgate_signature::hmac_sha256(b"cs", &[&msg]);
            for (sig, enc) in [
                (hookgate_signature::encode_base64(&mac), "base64"),
                (hex::encode(mac), "hex"),
            ] {
                let m = verify(Some(&sig), BODY, &[url], &Recipe::ALL, &["other", "cs"]).unwrap();
                assert_eq!((m.recipe, m.secret_index, m.encoding), (recipe, 1, enc));
            }
        }
    }

    #[test]
    fn url_recipes_also_try_the_url_the_request_arrived_at() {
        let configured = "https://gw.example/hooks/demo/keeta-auth";
        let called = "https://hooks.acme.example/webhook/authorization";
        let mac = hookgate_signature::hmac_sha256(b"cs", &[called.as_bytes(), b"&", BODY]);
        let sig = hookgate_signature::encode_base64(&mac);
        assert_eq!(
            verify(Some(&sig), BODY, &[configured], &Recipe::ALL, &["cs"]),
            Err(VerifyError::Mismatch),
            "over the configured URL only, it cannot verify"
        );
        let m = verify(Some(&sig), BODY, &[configured, called], &Recipe::ALL, &["cs"]).unwrap();
        assert_eq!((m.recipe, m.request_url), (Recipe::UrlBody, true));
        let same = verify(Some(&sig), BODY, &[called, called], &Recipe::ALL, &["cs"]).unwrap();
        assert!(!same.request_url, "the configured URL, tried once");
    }

    #[test]
    fn rejects_wrong_secret_tampering_and_garbage() {
        let sig = sign(BODY, "cs");
        assert_eq!(
            verify(Some(&sig), BODY, &["u"], &Recipe::ALL, &["cs"]).unwrap().recipe,
            Recipe::Body
        );
        assert_eq!(
            verify(Some(&sig), BODY, &["u"], &Recipe::ALL, &["nope"]),
            Err(VerifyError::Mismatch)
        );
        let tampered = String::from_utf8(BODY.to_vec())
            .unwrap()
            .replace("\"opType\":1", "\"opType\":2");
        assert_eq!(
            verify(Some(&sig), tampered.as_bytes(), &["u"], &Recipe::ALL, &["cs"]),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(None, BODY, &["u"], &Recipe::ALL, &["cs"]),
            Err(VerifyError::Missing)
        );
        assert_eq!(
            verify(Some("zz!"), BODY, &["u"], &Recipe::ALL, &["cs"]),
            Err(VerifyError::Malformed)
        );
        // Plain SHA-256 of body+secret is not an HMAC.
        use sha2::Digest;
        let plain = hex::encode(sha2::Sha256::digest([BODY, b"cs"].concat()));
        assert_eq!(
            verify(Some(&plain), BODY, &["u"], &Recipe::ALL, &["cs"]),
            Err(VerifyError::Mismatch)
        );
    }
}
