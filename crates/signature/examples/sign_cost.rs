//! What signing one published message costs: `v1` (HMAC-SHA256) and `v1a`
//! (Ed25519) over a canonical event's body of typical size (1.5 KiB), per
//! signature, on one core.
//!
//! `cargo run --release -p hookgate-signature --example sign_cost [BODY_BYTES]`

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is a failed run

use hookgate_signature::standard_webhooks::{Ed25519Key, Signer};
use std::time::Instant;

fn per_call(label: &str, signer: &Signer, body: &[u8]) {
    let rounds = 20_000;
    let mut bytes = 0;
    let start = Instant::now();
    for i in 0..rounds {
        bytes += signer
            .sign("01938c3a-8f2e-7d41-9a55-2f6f3c1d9e10", 1_764_700_000 + i, body)
            .len();
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    println!(
        "{label:<28} {us:>7.2} µs per message ({} header bytes)",
        bytes / rounds as usize
    );
}

fn main() {
    let size: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1536);
    let body = vec![b'x'; size];
    let ed = || Ed25519Key::from_pkcs8(Ed25519Key::generate_pem().unwrap().as_bytes()).unwrap();
    println!("body {size} bytes");
    per_call("v1 (one HMAC secret)", &Signer::new(vec![vec![7; 32]], vec![]), &body);
    per_call("v1a (one Ed25519 key)", &Signer::new(vec![], vec![ed()]), &body);
    per_call(
        "v1 + v1a (the demo tenant)",
        &Signer::new(vec![vec![7; 32]], vec![ed()]),
        &body,
    );
    per_call(
        "2 × v1 + v1a (a rotation)",
        &Signer::new(vec![vec![7; 32], vec![8; 32]], vec![ed()]),
        &body,
    );
}
