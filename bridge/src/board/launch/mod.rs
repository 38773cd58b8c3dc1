//! How vlab starts a board's firmware: in QEMU for an emulated board
//! ([`qemu`]), or through its debug probe ([`probe`]).

pub mod probe;
pub mod qemu;
