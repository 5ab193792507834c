//! Tests that need the process or the machine to themselves, run one at a
//! time (`SERIAL`) in their own binary (cargo runs test binaries one after
//! another, so nothing else runs meanwhile):
//!
//! - `faults`: the guarantees of DESIGN.md §8 under real failures; the
//!   outages stop the local PostgreSQL, Redis and RabbitMQ and run only with
//!   `HOOKGATE_FAULT_TESTS=1` (`.ci/run` sets it);
//! - `failover`: real clusters (RabbitMQ, PostgreSQL under Patroni, Redis
//!   under Sentinel, several hookgate processes behind HAProxy) started on
//!   their own ports, a node killed under load; run only with
//!   `HOOKGATE_FAILOVER_TESTS=1` (`.ci/run` sets it);
//! - `telemetry`: OTLP export; it installs the process-global tracing
//!   subscriber;
//! - `signals`: `SIGHUP` reloads the tenant files (the signal goes to the
//!   whole process).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod failover;
mod faults;
mod signals;
mod telemetry;

/// One test at a time in this binary.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
