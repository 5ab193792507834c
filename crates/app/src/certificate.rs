//! When the gateway's TLS certificate expires: the earliest `notAfter` of
//! the chain in `http.tls_cert_file` (any expired certificate of the chain
//! breaks it), read again every watch round so that a renewal is seen.

use chrono::{DateTime, Utc};

/// The earliest expiry of the PEM chain in `pem`.
pub fn expires_at(pem: &[u8]) -> Result<DateTime<Utc>, String> {
    // x509-cert's PEM reader indexes `len - 1`: never hand it nothing.
    if pem.iter().all(u8::is_ascii_whitespace) {
        return Err("the file is empty".to_owned());
    }
    let chain = x509_cert::Certificate::load_pem_chain(pem).map_err(|e| format!("not a PEM certificate chain: {e}"))?;
    chain
        .iter()
        .map(|c| c.tbs_certificate.validity.not_after.to_unix_duration())
        .min()
        .and_then(|d| DateTime::from_timestamp(i64::try_from(d.as_secs()).ok()?, 0))
        .ok_or_else(|| "no certificate in the file".to_owned())
}

/// Reads and judges the file.
pub fn file_expires_at(path: &std::path::Path) -> Result<DateTime<Utc>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    expires_at(&pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(expires_at(b"not pem").is_err());
        assert!(expires_at(b"").is_err());
        assert!(expires_at(b" \n").is_err());
        assert!(expires_at(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").is_err());
    }
}
