//! The isolation property: accepted ⇒ storable, and publishable or parked
//! at once (`hookgate_normalizer::invariants`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((kind, body)) = hookgate_fuzz::kind_and_body(data) else {
        return;
    };
    if let Err(violation) = hookgate_normalizer::invariants::check_accepted(kind, body, &hookgate_fuzz::headers(body)) {
        panic!("{kind}: {violation}");
    }
});
