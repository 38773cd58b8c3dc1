//! vlab-bridge: the host side of vlab's MCU path. It knows the boards
//! ([`board`]), launches emulated ones ([`qemu`]), opens links to them
//! ([`transport`]), speaks the wire protocol with their firmware
//! ([`session`]) and runs benchmarks on them ([`mcu`]), writing the same
//! artifacts as a benchmark on this machine. [`nomad`] says what a lab host
//! advertises to the cluster.

pub mod board;
pub mod board_log;
pub mod firmware_image;
pub mod mcu;
pub mod nomad;
pub mod probe;
pub mod qemu;
pub mod session;
pub mod transport;
