//! Byte streams to a board. A transport is anything that reads and writes
//! bytes asynchronously; the session puts frames on it.
//!
//! [`open`] is the one registration point: a new transport is one module
//! here, one [`Transport`] variant and one arm in [`open`].
//!
//! The links stay asynchronous, though the measured loop above them is
//! not: one `tokio::select!` then lets SIGINT or SIGTERM cancel whatever a
//! board run waits on (a connect while QEMU starts, a read, a long `Run`)
//! and drop the session and the emulator with it, and the RTT pump thread
//! hands its bytes over through a channel. Synchronous links would need a
//! deadline and a signal check in the read loop of every transport.

mod faults;
mod rtt;
mod serial;
mod tcp;

pub use faults::{FaultCounter, FaultCounts, FaultRates, FaultyLink};
pub use rtt::{ProbeRtt, RttPort};

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use vlab_harness::{Error, Result};

use crate::session::LogSink;

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

/// The transports vlab speaks, as `--transport` and board.toml name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// A TCP byte stream: QEMU's UART socket, or a network serial server.
    Tcp,
    /// A serial port, or QEMU's UART on a pseudo-terminal.
    Serial,
    /// RTT through the board's debug probe.
    Rtt,
}

impl Transport {
    /// The name `--transport` and board.toml use.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Serial => "serial",
            Transport::Rtt => "rtt",
        }
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Asked while a connection waits for its board, to stop the wait early
/// with the reason (QEMU exited, say).
pub type Alive = Box<dyn FnMut() -> Result<()> + Send>;

/// Where a link goes, as the board's route found it.
pub enum Endpoint {
    /// A socket address (`host:port`) or a device path.
    Address {
        /// The address or path.
        at: String,
        /// Baud rate, for a serial port.
        baud: u32,
        /// How long the board may take to accept a connection.
        patience: Duration,
        /// Stops the wait when the board cannot come up.
        alive: Alive,
    },
    /// The RTT control block of a board attached through its probe.
    Probe {
        /// The attached probe.
        port: Box<ProbeRtt>,
        /// How the report names the link.
        description: String,
        /// Takes the defmt bytes of the firmware's log channel.
        logs: Option<LogSink>,
    },
}

/// Opens a `transport` link to `endpoint`.
pub async fn open(transport: Transport, endpoint: Endpoint) -> Result<Connection> {
    match (transport, endpoint) {
        (
            Transport::Tcp,
            Endpoint::Address {
                at,
                patience,
                alive,
                ..
            },
        ) => tcp::connect(&at, patience, alive).await,
        (Transport::Serial, Endpoint::Address { at, baud, .. }) => serial::open(&at, baud),
        (
            Transport::Rtt,
            Endpoint::Probe {
                port,
                description,
                logs,
            },
        ) => Ok(rtt::open(*port, description, logs)),
        (transport, _) => Err(Error::runtime(format!(
            "the {transport} transport cannot reach this endpoint"
        ))),
    }
}
