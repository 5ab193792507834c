//! Integration tests of hookgate against the real local PostgreSQL, Redis and
//! RabbitMQ: `ingress.rs` (every HTTP answer), `dispatcher.rs` (confirms,
//! unroutable, dedupe, Redis down, retry and parking), `e2e.rs` (HTTP in,
//! canonical events out of a bound queue), `providers.rs` (every source kind),
//! `faults.rs` (guarantees under process and service failures; the outages
//! only with `HOOKGATE_FAULT_TESTS=1`), `register.rs` (onboarding against fake
//! provider management APIs), `hostile.rs` (isolation under hostile input),
//! `telemetry.rs` (OTLP export) and `architecture.rs` (the dependency
//! invariants, over `cargo metadata`). Each test owns its resources
//! (see `hookgate-testkit`), so they run in parallel.
