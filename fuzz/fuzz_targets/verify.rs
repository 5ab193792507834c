//! Every signature recipe on hostile headers and bodies: an answer, never a
//! panic. The input is `header \n body`.
#![no_main]

use hookgate_providers::{bh::signature as bh, keeta::signature as keeta, keeta_auth::signature as keeta_auth, pagsmile::signature as pagsmile, standard_webhooks::signature as standard_webhooks};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let header = String::from_utf8_lossy(&data[..split]).into_owned();
    let body = data.get(split + 1..).unwrap_or_default();
    let h = Some(header.as_str());
    if let Ok(params) = keeta::Params::from_json(body) {
        let urls = keeta::Urls {
            callback: "https://h/hooks/t/keeta",
            request: Some("https://h/hooks/t/keeta?x=1"),
        };
        let _ = keeta::verify(&params, urls, &keeta::Recipe::ALL, &["secret"]);
    }
    let _ = keeta_auth::verify(h, body, &["https://h/cb", "https://h/webhook/authorization"], &keeta_auth::Recipe::ALL, &["secret"]);
    let _ = pagsmile::verify_payin(h, body, &["secret"], 1_700_000_000, 300);
    let _ = pagsmile::verify_payout(h, body, &["key"]);
    let _ = standard_webhooks::verify(h, h, h, body, &[b"key".to_vec()], 1_700_000_000, 300);
    let _ = bh::verify(h, body, &[]);
});
