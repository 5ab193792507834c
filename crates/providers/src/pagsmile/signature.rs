//! Pagsmile notification signatures.
//!
//! * Pay-in (<https://docs.pagsmile.com/payin/notification/security>):
//!   `Pagsmile-Signature: t=<unix seconds>,v2=<hex HMAC-SHA256(secret, raw body)>`.
//!   Parsing is tolerant (split on `,`, trim, split on the first `=`, ignore
//!   unknown parts). `t` is not covered by the HMAC; it is checked against a
//!   tolerance anyway (PROVIDERS.md open question 16).
//! * Payout (<https://docs.pagsmile.com/payout/security>):
//!   `Authorization: sha256_hex(k1=v1&k2=v2... + app_key)` over the body's
//!   non-empty parameters sorted by key. Plain SHA-256, not HMAC.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Why a notification did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// No signature header.
    #[error("missing signature header")]
    Missing,
    /// The header has no usable signature.
    #[error("malformed signature header")]
    Malformed,
    /// `t` is outside the tolerance.
    #[error("signature timestamp outside the tolerance")]
    Stale,
    /// No secret reproduces the signature.
    #[error("signature does not match")]
    Mismatch,
    /// The body is not a JSON object (payout).
    #[error("body is not a JSON object")]
    NotAnObject,
}

/// The parts of a `Pagsmile-Signature` header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PayinHeader {
    /// `t`, when present and numeric.
    pub t: Option<i64>,
    /// Every `v2` value.
    pub v2: Vec<String>,
}

/// Parses `t=..,v2=..` tolerantly.
pub fn parse_payin_header(header: &str) -> PayinHeader {
    let mut out = PayinHeader::default();
    for part in header.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            continue;
        };
        match k.trim() {
            "t" => out.t = v.trim().parse().ok(),
            "v2" => out.v2.push(v.trim().to_owned()),
            _ => {}
        }
    }
    out
}

/// Lowercase hex HMAC-SHA256 of the raw body.
pub fn payin_sign(body: &[u8], secret: &str) -> String {
    hex::encode(hookgate_signature::hmac_sha256(secret.as_bytes(), &[body]))
}

/// Verifies a pay-in notification; returns the index of the matching secret.
pub fn verify_payin(
    header: Option<&str>,
    body: &[u8],
    secrets: &[&str],
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<usize, VerifyError> {
    let header = parse_payin_header(header.ok_or(VerifyError::Missing)?);
    if header.v2.is_empty() {
        return Err(VerifyError::Malformed);
    }
    if tolerance_secs > 0 {
        let t = header.t.ok_or(VerifyError::Malformed)?;
        if (now_secs - t).abs() > tolerance_secs {
            return Err(VerifyError::Stale);
        }
    }
    for (i, secret) in secrets.iter().enumerate() {
        let mac = hookgate_signature::hmac_sha256(secret.as_bytes(), &[body]);
        for v in &header.v2 {
            if hookgate_signature::decode_hex(v).is_some_and(|got| hookgate_signature::ct_eq(&got, &mac)) {
                return Ok(i);
            }
        }
    }
    Err(VerifyError::Mismatch)
}

/// The sorted, non-empty `k=v&...` string of a payout body. Strings go in
/// raw; numbers and booleans as written; nested values as compact JSON
/// (PROVIDERS.md open question 18: decimal rendering, as the Go and Python samples do).
pub fn payout_params(body: &[u8]) -> Result<String, VerifyError> {
    let fields: BTreeMap<String, &serde_json::value::RawValue> =
        serde_json::from_slice(body).map_err(|_| VerifyError::NotAnObject)?;
    Ok(params_of(&fields))
}

/// The sorted, non-empty `k=v&...` string of a payout body's top-level fields.
pub fn params_of(fields: &BTreeMap<String, &serde_json::value::RawValue>) -> String {
    let mut out = String::new();
    for (k, v) in fields {
        let text = v.get().trim();
        let value = if text.starts_with('"') {
            serde_json::from_str::<String>(text).unwrap_or_default()
        } else if text == "null" {
            String::new()
        } else {
            text.to_owned()
        };
        if value.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(&value);
    }
    out
}

/// `sha256_hex(params + app_key)`.
pub fn payout_sign(params: &str, app_key: &str) -> String {
    hex::encode(Sha256::digest([params.as_bytes(), app_key.as_bytes()].concat()))
}

/// Verifies a payout notification's `Authorization`; returns the key index.
pub fn verify_payout(header: Option<&str>, body: &[u8], app_keys: &[&str]) -> Result<usize, VerifyError> {
    let expected = authorization_digest(header)?;
    let fields: BTreeMap<String, &serde_json::value::RawValue> =
        serde_json::from_slice(body).map_err(|_| VerifyError::NotAnObject)?;
    payout_key_index(&expected, &fields, app_keys)
}

/// [`verify_payout`] over a body's already parsed top-level fields.
pub fn verify_payout_fields(
    header: Option<&str>,
    fields: &BTreeMap<String, &serde_json::value::RawValue>,
    app_keys: &[&str],
) -> Result<usize, VerifyError> {
    payout_key_index(&authorization_digest(header)?, fields, app_keys)
}

/// The 32-byte digest an `Authorization` header carries.
fn authorization_digest(header: Option<&str>) -> Result<Vec<u8>, VerifyError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(VerifyError::Missing)?;
    // Tolerate a scheme word in front ("SHA256 <hex>").
    let hex_part = header.rsplit(' ').next().unwrap_or(header);
    hookgate_signature::decode_hex(hex_part)
        .filter(|b| b.len() == 32)
        .ok_or(VerifyError::Malformed)
}

/// The index of the app key whose digest of the parameters is `expected`.
fn payout_key_index(
    expected: &[u8],
    fields: &BTreeMap<String, &serde_json::value::RawValue>,
    app_keys: &[&str],
) -> Result<usize, VerifyError> {
    let params = params_of(fields);
    for (i, key) in app_keys.iter().enumerate() {
        let digest = Sha256::digest([params.as_bytes(), key.as_bytes()].concat());
        if hookgate_signature::ct_eq(&digest, expected) {
            return Ok(i);
        }
    }
    Err(VerifyError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The payout security page's worked example, byte for byte.
    #[test]
    fn payout_documented_vector() {
        let body = br#"{"name":"Test User Name","account_digit":"4","account_number":"1234567","account_type":"CHECKING",
            "additional_remark":"1234567_test","amount":"10.00","bankcode":"001","branch":"0001","custom_code":"1234567",
            "document_id":"50284414727","document_type":"CPF","fee":"merchant","notify_url":"https://www.pagsmile.com",
            "payout_currency":"BRL","source_currency":"BRL","empty":"","nothing":null}"#;
        let params = payout_params(body).unwrap();
        assert_eq!(
            format!("{params}ABCDE"),
            "account_digit=4&account_number=1234567&account_type=CHECKING&additional_remark=1234567_test&amount=10.00&bankcode=001&branch=0001&custom_code=1234567&document_id=50284414727&document_type=CPF&fee=merchant&name=Test User Name&notify_url=https://www.pagsmile.com&payout_currency=BRL&source_currency=BRLABCDE"
        );
        let sig = payout_sign(&params, "ABCDE");
        assert_eq!(sig, "b15f900705867ecc3f66088054c14a80f9f12b1fb31c82320c4cbfe181876abb");
        assert_eq!(verify_payout(Some(&sig), body, &["x", "ABCDE"]), Ok(1));
        assert_eq!(verify_payout(Some(&sig.to_uppercase()), body, &["ABCDE"]), Ok(0));
        assert_eq!(verify_payout(Some(&sig), body, &["ABCDF"]), Err(VerifyError::Mismatch));
        assert_eq!(verify_payout(None, body, &["ABCDE"]), Err(VerifyError::Missing));
        assert_eq!(
            verify_payout(Some("nothex"), body, &["ABCDE"]),
            Err(VerifyError::Malformed)
        );
    }

    #[test]
    fn payout_numbers_render_as_decimals() {
        let body = br#"{"payoutId":"P1","status":"PAID","timestamp":1645516741,"msg":""}"#;
        assert_eq!(
            payout_params(body).unwrap(),
            "payoutId=P1&status=PAID&timestamp=1645516741"
        );
    }

    #[test]
    fn payin_header_parsing_is_tolerant() {
        assert_eq!(
            parse_payin_header("t=1645516741, v2=abc"),
            PayinHeader {
                t: Some(1645516741),
                v2: vec!["abc".into()]
            }
        );
        assert_eq!(
            parse_payin_header(" v2 = x ,t=5,v1=old,junk"),
            PayinHeader {
                t: Some(5),
                v2: vec!["x".into()]
            }
        );
    }

    #[test]
    fn payin_verifies_raw_body_within_tolerance() {
        let body = br#"{"trade_no":"2022022201111100011","trade_status":"SUCCESS","amount":"12.01"}"#;
        let sig = payin_sign(body, "sk");
        let header = format!("t=1000, v2={sig}");
        assert_eq!(verify_payin(Some(&header), body, &["old", "sk"], 1100, 300), Ok(1));
        assert_eq!(
            verify_payin(Some(&header), body, &["sk"], 1400, 300),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify_payin(Some(&header), body, &["sk"], 1400, 0),
            Ok(0),
            "tolerance 0 disables the check"
        );
        assert_eq!(
            verify_payin(Some(&header), b"{\"trade_no\":\"x\"}", &["sk"], 1000, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify_payin(Some("t=1000"), body, &["sk"], 1000, 300),
            Err(VerifyError::Malformed)
        );
        assert_eq!(verify_payin(None, body, &["sk"], 1000, 300), Err(VerifyError::Missing));
    }
}
