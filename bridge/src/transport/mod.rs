//! Byte streams to a board. A transport is anything that reads and writes
//! bytes asynchronously; the session puts frames on it. New transports are
//! one module here plus one arm in [`crate::board::TransportDef`].

mod faults;
mod rtt;
mod serial;
mod tcp;

pub use faults::{FaultCounts, FaultRates, FaultyLink};
pub use rtt::{ProbeRtt, RttPort, open_rtt};
pub use serial::open_serial;
pub use tcp::connect_tcp;

use tokio::io::{AsyncRead, AsyncWrite};

/// A byte stream to a board.
pub trait Link: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Link for T {}

/// An open link and a description of it for the report (`tcp 127.0.0.1:4000`).
pub struct Connection {
    /// The byte stream.
    pub link: Box<dyn Link>,
    /// What it is.
    pub description: String,
}
