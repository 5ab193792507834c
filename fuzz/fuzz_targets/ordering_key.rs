//! Any body of any kind: the ordering key, when there is one, is storable;
//! the key ingress reads in its one parse of the body (`Provider::keys`) is
//! the one normalization names, whenever normalization names one.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((kind, body)) = hookgate_fuzz::kind_and_body(data) else {
        return;
    };
    let Some(provider) = hookgate_providers::provider(kind) else {
        return;
    };
    let options = hookgate_providers::Options::default();
    let headers = hookgate_fuzz::headers(body);
    let Ok(keys) = provider.keys(body, &headers) else {
        return;
    };
    let reference = hookgate_providers::ordering_key("tenant", kind, body, keys.delivery_key.as_str(), options);
    if let Some(key) = &reference {
        assert!(key.len() <= hookgate_providers::MAX_KEY_LEN, "{} bytes", key.len());
        assert!(!key.contains('\0'), "{key:?}");
        assert_eq!(keys.delivery("tenant").ordering_key.as_ref(), Some(key));
    }
});
