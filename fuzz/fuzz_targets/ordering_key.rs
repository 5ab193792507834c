//! Any body of any kind: the ordering key, when there is one, is storable.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((kind, body)) = hookgate_fuzz::kind_and_body(data) else {
        return;
    };
    let options = hookgate_providers::Options::default();
    if let Some(key) = hookgate_providers::ordering_key("tenant", kind, body, "delivery", options) {
        assert!(key.len() <= hookgate_providers::MAX_KEY_LEN, "{} bytes", key.len());
        assert!(!key.contains('\0'), "{key:?}");
    }
});
