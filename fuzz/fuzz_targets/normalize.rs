//! The isolation property: accepted ⇒ storable, and publishable or parked
//! at once (`hookgate_providers::invariants`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((kind, body)) = hookgate_fuzz::kind_and_body(data) else {
        return;
    };
    if let Err(violation) = hookgate_providers::invariants::check_accepted(kind, body, &hookgate_fuzz::headers(body)) {
        panic!("{kind}: {violation}");
    }
});
