//! vlab-firmware: the `#![no_std]` on-device agent.
//!
//! It serves vlab's wire protocol (vlab-protocol) over any
//! `embedded-io` byte stream: it identifies the board, receives a model into
//! a model slot and inputs into a staging buffer, runs warmup and timed
//! inferences with vlab-micro, streams per-inference and per-operator ticks
//! from a [`TickClock`], and returns outputs. Every buffer is the caller's and
//! bounded; a bad frame is answered with an error frame and the agent keeps
//! serving. A board crate provides the clock, the UART and the memory.
//!
//! Features: `defmt` makes the agent log through defmt (the board links a
//! global logger, e.g. defmt-rtt); `uart-log` adds [`uart_log`], a logger
//! that sends the logs to the host in the protocol's `Log` frames.

#![no_std]

mod agent;
mod clock;
mod log;
#[cfg(feature = "uart-log")]
pub mod uart_log;

pub use agent::{Agent, BoardInfo, Memory};
pub use clock::TickClock;
/// The clock trait vlab-micro times operators with; a board's [`TickClock`] implements it.
pub use vlab_micro::Clock;
