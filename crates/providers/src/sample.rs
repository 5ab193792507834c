//! Signed sample requests, as each provider would send them: what
//! `hookgate simulate`, `hookgate bench` and the tests send. Each provider's
//! folder has a `sample.rs` with its realistic bodies (from the providers'
//! documented examples); its settings sign them with the source's
//! credentials ([`crate::SourceSettings::sign_sample`]).

pub use hookgate_signature::rsa::PrivateKey;

/// A request ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Body bytes.
    pub body: Vec<u8>,
    /// Headers to send besides `content-type: application/json`.
    pub headers: Vec<(String, String)>,
}

impl Sample {
    /// An unsigned sample.
    pub fn unsigned(body: Vec<u8>) -> Sample {
        Sample {
            body,
            headers: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Sample {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Changes the last character of header `name` so that a signature in
    /// it no longer matches (`hex`: stays a hex digit).
    pub fn corrupt_header(mut self, name: &str, hex: bool) -> Sample {
        if let Some((_, value)) = self.headers.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            flip_last(value, hex);
        }
        self
    }
}

/// Replaces the last character of `s` by a different one (a hex digit when
/// `hex`), different in either case too: hex decodes either case alike.
pub fn flip_last(s: &mut String, hex: bool) {
    let last = s.pop().unwrap_or('0');
    let replacement = match (hex, last) {
        (true, '0') => '1',
        (true, _) => '0',
        (false, 'A' | 'a' | '0') => 'B',
        (false, _) => 'A',
    };
    s.push(replacement);
}

/// What signing a sample may need besides the source's own settings.
#[derive(Debug, Clone, Copy)]
pub struct SampleContext<'a> {
    /// The send time, Unix seconds (for timestamped signatures).
    pub now_secs: i64,
    /// A unique id for this delivery (for providers whose signature covers one).
    pub delivery_id: &'a str,
    /// The provider's own private key, for providers that sign with a key
    /// pair whose private half the gateway never holds.
    pub private_key: Option<&'a PrivateKey>,
}

/// Why a sample cannot be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    /// The source has no secret to sign with.
    #[error("no secret configured")]
    NoSecret,
    /// The provider signs with its private key, and none was given.
    #[error("{0} signs with its own private key, and none was given")]
    NoPrivateKey(&'static str),
    /// The body is not what the provider's signature recipe reads.
    #[error("the sample body cannot be signed: {0}")]
    Body(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PROVIDERS;

    #[test]
    fn every_sample_event_of_every_provider_has_a_json_body() {
        for provider in PROVIDERS {
            assert!(!provider.sample_events().is_empty(), "{}", provider.kind());
            assert!(provider.sample_events().contains(&provider.typical_sample()));
            for event in provider.sample_events() {
                let body = provider.sample_body(event, 7, 1_795_000_000_000);
                let body = body.unwrap_or_else(|| panic!("{} {event}: no body", provider.kind()));
                assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok(), "{event}");
            }
            // Standard Webhooks carries any `type`; the others know their events.
            let open = provider.kind() == crate::standard_webhooks::KIND;
            assert_eq!(provider.sample_body("no-such-event", 1, 0).is_some(), open);
        }
    }

    #[test]
    fn a_corrupted_header_differs_in_its_last_character_only() {
        let sample = Sample::unsigned(Vec::new())
            .with_header("signature", "ab10")
            .corrupt_header("Signature", true);
        assert_eq!(sample.header("signature"), Some("ab11"));
        let sample = Sample::unsigned(Vec::new())
            .with_header("x", "v1,abcA")
            .corrupt_header("x", false);
        assert_eq!(sample.header("x"), Some("v1,abcB"));
    }

    /// A corrupted credential must not decode to the same bytes: hex is read
    /// in either case, so `a` → `A` would change nothing (seen: a pay-in
    /// signature ending in `a` was "corrupted" into a valid one).
    #[test]
    fn a_flipped_character_differs_in_any_case() {
        let alphabet = "0123456789abcdefABCDEFghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ+/=-_";
        for hex in [false, true] {
            for c in alphabet.chars() {
                let mut s = format!("v1,{c}");
                flip_last(&mut s, hex);
                let flipped = s.chars().last().unwrap();
                assert!(!flipped.eq_ignore_ascii_case(&c), "{c} → {flipped} (hex: {hex})");
            }
        }
    }
}
