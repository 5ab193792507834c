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

/// Verifies `header` against each recipe and secret.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    url: &str,
    recipes: &[Recipe],
    secrets: &[&str],
) -> Result<Match, VerifyError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(VerifyError::Missing)?;
    let (expected, encoding) = hookgate_signature::decode_digest(header, 32).ok_or(VerifyError::Malformed)?;
    let canonical = jcs(body);
    for &recipe in recipes {
        let message: Vec<&[u8]> = match recipe {
            Recipe::Body => vec![body],
            Recipe::BodyJcs => match &canonical {
                Some(c) => vec![c.as_slice()],
                None => continue,
            },
            Recipe::UrlBody => vec![url.as_bytes(), b"&", body],
            Recipe::UrlBodyJcs => match &canonical {
                Some(c) => vec![url.as_bytes(), b"&", c.as_slice()],
                None => continue,
            },
        };
        for (secret_index, secret) in secrets.iter().enumerate() {
            if hookgate_signature::ct_eq(&hookgate_signature::hmac_sha256(secret.as_bytes(), &message), &expected) {
                return Ok(Match {
                    recipe,
                    secret_index,
                    encoding,
                });
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
                let m = verify(Some(&sig), BODY, url, &Recipe::ALL, &["other", "cs"]).unwrap();
                assert_eq!((m.recipe, m.secret_index, m.encoding), (recipe, 1, enc));
            }
        }
    }

    #[test]
    fn rejects_wrong_secret_tampering_and_garbage() {
        let sig = sign(BODY, "cs");
        assert_eq!(
            verify(Some(&sig), BODY, "u", &Recipe::ALL, &["cs"]).unwrap().recipe,
            Recipe::Body
        );
        assert_eq!(
            verify(Some(&sig), BODY, "u", &Recipe::ALL, &["nope"]),
            Err(VerifyError::Mismatch)
        );
        let tampered = String::from_utf8(BODY.to_vec())
            .unwrap()
            .replace("\"opType\":1", "\"opType\":2");
        assert_eq!(
            verify(Some(&sig), tampered.as_bytes(), "u", &Recipe::ALL, &["cs"]),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(None, BODY, "u", &Recipe::ALL, &["cs"]),
            Err(VerifyError::Missing)
        );
        assert_eq!(
            verify(Some("zz!"), BODY, "u", &Recipe::ALL, &["cs"]),
            Err(VerifyError::Malformed)
        );
        // Plain SHA-256 of body+secret is not an HMAC.
        use sha2::Digest;
        let plain = hex::encode(sha2::Sha256::digest([BODY, b"cs"].concat()));
        assert_eq!(
            verify(Some(&plain), BODY, "u", &Recipe::ALL, &["cs"]),
            Err(VerifyError::Mismatch)
        );
    }
}
