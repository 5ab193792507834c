//! Any body of any kind: the delivery key, when there is one, is storable.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((kind, body)) = hookgate_fuzz::kind_and_body(data) else {
        return;
    };
    if let Ok(key) = hookgate_providers::delivery_key(kind, body, &hookgate_fuzz::headers(body)) {
        let key = key.as_str();
        assert!(
            !key.is_empty() && key.len() <= hookgate_core::DeliveryKey::MAX_LEN,
            "{key:?}"
        );
        assert!(!key.contains('\0'), "{key:?}");
    }
});
