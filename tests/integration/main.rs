//! The integration tests: one binary, one module per area, against the
//! real local PostgreSQL, Redis and RabbitMQ. Each test owns its resources
//! (`hookgate-testkit`), so they run in parallel. Tests that need the
//! process or the machine to themselves are in `tests/isolated/`.
//!
//! - `ingress`: every HTTP answer; `hostile`: isolation under hostile input
//!   (precise answer, rejection row, metric, neighbours unaffected);
//! - `dispatcher`: confirms, unroutable, dedupe, Redis down, retry and parking;
//! - `e2e`: HTTP in, canonical events out of a bound queue;
//! - `providers`: every source kind; `register`: onboarding against fake
//!   provider management APIs;
//! - `architecture`: the dependency invariants, over `cargo metadata`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod admin;
mod architecture;
mod consumer;
mod dispatcher;
mod e2e;
mod hostile;
mod ingress;
mod neighbours;
mod providers;
mod register;
mod reload;
mod spool;
mod stale;
mod watch;
