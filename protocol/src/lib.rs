//! vlab-protocol: the wire format between the vlab host and the firmware on
//! a board. `#![no_std]`, no allocator, every buffer bounded.
//!
//! A frame carries one message: the message serialised with postcard, then
//! its CRC-32 (little-endian, XORed with a per-direction mask so that a
//! frame never decodes as a message of the other direction), all COBS-encoded and terminated by a zero
//! byte. The host always speaks first ([`Request`]); the board answers with
//! [`Event`]s. docs/protocol.md is the byte-level specification, with test
//! vectors that `tests/vectors.rs` checks.

#![no_std]

mod frame;
mod message;
mod slot;

pub use frame::{Decoder, FrameError, MAX_FRAME, MAX_PAYLOAD, Message, chunk_crc, encode};
pub use message::{
    CHUNK, Capabilities, ErrorCode, Event, Identify, MAX_LOG, MAX_SAMPLES, Request, RunSummary,
    Stream, TimerKind, VersionMismatch, check_version,
};
pub use slot::{MAX_KEY, SLOT_HEADER_BYTES, SlotHeader};

/// Version of this wire format. Host and firmware must agree exactly.
pub const PROTOCOL_VERSION: u16 = 2;
