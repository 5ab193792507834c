//! The `hookgate` binary's commands, one module each with its arguments and
//! its `run`: `serve` and `migrate` (the gateway is built by `hookgate-app`),
//! `config check`, `simulate`, `tail`, `bench`, `register`, and the operator
//! commands over the admin API (`ops.rs`). `main.rs` only parses arguments
//! and dispatches. Output goes through [`out!`] / [`outln!`], which a closed
//! pipe ends quietly.

pub mod output;

pub mod bench;
pub mod check;
pub mod cost;
pub mod ops;
pub mod register;
pub mod serve;
pub mod settings;
pub mod simulate;
pub mod tail;
