//! Any body of any kind: the ordering key, when there is one, is storable;
//! for Keeta, the key ingress reads in its one parse of the body is the one
//! normalization names, whenever normalization names one.
#![no_main]

use hookgate_providers::keeta;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((kind, body)) = hookgate_fuzz::kind_and_body(data) else {
        return;
    };
    let options = hookgate_providers::Options::default();
    let reference = hookgate_providers::ordering_key("tenant", kind, body, "delivery", options);
    if let Some(key) = &reference {
        assert!(key.len() <= hookgate_providers::MAX_KEY_LEN, "{} bytes", key.len());
        assert!(!key.contains('\0'), "{key:?}");
    }
    if kind == keeta::KIND && reference.is_some() {
        let fast = keeta::Envelope::parse(body)
            .ok()
            .and_then(|e| keeta::subject(&e))
            .map(|s| hookgate_providers::ordering_key_of("tenant", &s));
        assert_eq!(fast, reference);
    }
});
