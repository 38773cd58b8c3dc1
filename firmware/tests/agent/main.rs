//! The agent on the host, driven through its request handler and through a
//! byte stream. The byte stream is an in-memory buffer: the real UART and
//! QEMU board come with the board crate.

#![allow(missing_docs, clippy::unwrap_used)]

mod mlperf;
mod mlperf_dut;
mod slot;
mod stream;
mod support;
