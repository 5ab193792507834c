//! The `hookgate` binary's commands besides `serve` (whose gateway is built
//! by `hookgate-app`): `config check`, `simulate`, `tail`, `bench` and
//! `register`, and the operator commands over the admin API (`ops.rs`).
//! `main.rs` only parses arguments and calls these.

pub mod bench;
pub mod check;
pub mod cost;
pub mod ops;
pub mod register;
pub mod simulate;
pub mod tail;
