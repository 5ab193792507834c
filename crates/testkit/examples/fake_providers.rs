//! Serves the fake BH and Keeta management APIs the tests use, so
//! `hookgate register` can be tried locally:
//! `cargo run -p hookgate-testkit --example fake_providers`.

use hookgate_testkit::fake_providers::{FakeBh, FakeKeeta};

#[tokio::main]
async fn main() {
    // The demo tenant's Keeta app; BH credentials as in the README's example.
    let bh = FakeBh::start("demo-bh-api-key", "demo-bh-api-secret");
    let keeta = FakeKeeta::start(1_000_001, "demo-keeta-secret");
    println!(
        "fake BH    {}  (api key demo-bh-api-key, secret demo-bh-api-secret)",
        bh.base_url
    );
    println!("fake Keeta {}  (app 1000001, secret demo-keeta-secret)", keeta.base_url);
    println!("Ctrl-C to stop");
    let _ = tokio::signal::ctrl_c().await;
    for w in bh.webhooks() {
        println!(
            "bh listener {} {} {} status {}",
            w.webhook_id, w.event_type, w.url, w.status
        );
    }
    for c in keeta.callbacks() {
        println!("keeta event {} test={} {}", c.event_id, c.is_test, c.url);
    }
}
