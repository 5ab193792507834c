//! Integration tests of hookgate against the real local PostgreSQL, Redis and
//! RabbitMQ: `ingress.rs` (every HTTP answer), `dispatcher.rs` (confirms,
//! unroutable, dedupe, Redis down, retry and parking), `e2e.rs` (HTTP in,
//! canonical events out of a bound queue), `providers.rs` (every source kind),
//! `faults.rs` (guarantees under process and service failures) and
//! `register.rs` (onboarding against fake provider management APIs). Each test owns its resources
//! (see `hookgate-testkit`), so they run in parallel.
