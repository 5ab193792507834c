//! Integration tests of hookgate against the real local PostgreSQL, Redis and
//! RabbitMQ: `ingress.rs` (every HTTP answer), `dispatcher.rs` (confirms,
//! unroutable, dedupe, Redis down, retry and parking) and `e2e.rs` (HTTP in,
//! canonical events out of a bound queue). Each test owns its resources
//! (see `hookgate-testkit`), so they run in parallel.
