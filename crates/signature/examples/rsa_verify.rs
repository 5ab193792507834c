//! Cost of one RSA-2048 PKCS#1 v1.5 SHA-256 verification (a BH webhook's
//! signature) with `ring`, which the webhook path uses, and with the `rsa`
//! crate. Prints µs per verification.
//!
//!     cargo run --release -p hookgate-signature --example rsa_verify

use hookgate_signature::rsa::{PrivateKey, PublicKey};
use std::time::Instant;

fn main() {
    let pem = include_str!("../../../config/demo/bh-private.pem");
    let Ok(key) = PrivateKey::from_pkcs8_pem(pem) else {
        eprintln!("the demo key does not parse");
        std::process::exit(1);
    };
    let Ok(public) = PublicKey::parse(&key.public_key_b64()) else {
        eprintln!("the demo public key does not parse");
        std::process::exit(1);
    };
    let message = br#"{"clientId":"W1796019694000000","createTime":"1796019634855","orderNo":"42"}"#;
    let signature = hex::decode(key.sign_hex(message)).unwrap_or_default();
    let n = 2_000;
    for (name, verify) in [
        (
            "ring",
            &(|m: &[u8], s: &[u8]| public.verifies(m, s)) as &dyn Fn(&[u8], &[u8]) -> bool,
        ),
        ("rsa", &|m: &[u8], s: &[u8]| public.verifies_with_rsa(m, s)),
    ] {
        let started = Instant::now();
        let mut ok = 0;
        for _ in 0..n {
            ok += usize::from(verify(message, &signature));
        }
        let per = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);
        println!("{name}: {per:.1} µs per verification ({ok}/{n} verified)");
    }
}
