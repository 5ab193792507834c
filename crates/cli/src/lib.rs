//! The `hookgate` binary's library: wiring of the gateway from settings
//! ([`gateway::Gateway`]), and the commands `migrate`, `config check`,
//! `simulate`, `tail`, `bench` and `register`. `main.rs` only parses arguments and calls these;
//! the test kit starts gateways through the same [`gateway::Gateway`].

pub mod bench;
pub mod check;
pub mod gateway;
pub mod register;
pub mod samples;
pub mod simulate;
pub mod tail;
