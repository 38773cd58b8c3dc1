//! The messages: what the host asks ([`Request`]) and what the board says
//! ([`Event`]).

use heapless::Vec;
use serde::{Deserialize, Serialize};

/// Bytes of model or input data per chunk.
pub const CHUNK: usize = 256;
/// Per-inference samples per [`Event::Samples`] frame.
pub const MAX_SAMPLES: usize = 64;
/// Bytes of defmt log data per [`Event::Log`] frame.
pub const MAX_LOG: usize = 192;

/// A request from the host. The host always speaks first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Opens a session: the host's protocol version. The board answers
    /// [`Event::Identify`].
    Hello {
        /// The host's [`crate::PROTOCOL_VERSION`].
        protocol_version: u16,
    },
    /// Is a model with this length and CRC-32 already in the slot? The board
    /// answers [`Event::ModelStatus`].
    ModelQuery {
        /// Model length in bytes.
        len: u32,
        /// CRC-32 of the whole model.
        crc: u32,
    },
    /// Starts a model upload of `len` bytes.
    ModelBegin {
        /// Model length in bytes.
        len: u32,
    },
    /// One chunk of the model at `offset`.
    ModelChunk {
        /// Byte offset in the model.
        offset: u32,
        /// CRC-32 of `data`.
        crc: u32,
        /// The bytes.
        data: Vec<u8, CHUNK>,
    },
    /// Ends the upload: the board checks the whole model's CRC-32 and
    /// prepares it, then answers [`Event::ModelStatus`] or [`Event::Error`].
    ModelCommit {
        /// CRC-32 of the whole model.
        crc: u32,
    },
    /// One chunk of input `index` at `offset`.
    InputChunk {
        /// Graph input index.
        index: u8,
        /// Byte offset in the input.
        offset: u32,
        /// The bytes.
        data: Vec<u8, CHUNK>,
    },
    /// Runs `warmup` untimed and `iterations` timed inferences, then answers
    /// [`Event::Done`]. A `Run` with the `id` of the last finished run is
    /// not run again: the board answers that run's `Done` again, so the host
    /// can safely resend a `Run` whose answer it missed.
    Run {
        /// The host's identifier of this run.
        id: u32,
        /// Untimed inferences first.
        warmup: u32,
        /// Timed inferences.
        iterations: u32,
        /// Keep every inference's ticks, for [`Request::ReadSamples`]. At
        /// most [`Identify::max_samples`] iterations.
        samples: bool,
        /// Time every operator of one extra inference, for [`Request::ReadLayer`].
        per_layer: bool,
    },
    /// Reads output `index` from `offset`: the board answers [`Event::Output`].
    ReadOutput {
        /// Graph output index.
        index: u8,
        /// Byte offset in the output.
        offset: u32,
    },
    /// Reads the last run's per-inference ticks from inference `first`: the
    /// board answers [`Event::Samples`] with up to [`MAX_SAMPLES`] of them.
    ReadSamples {
        /// Index of the first inference to read.
        first: u32,
    },
    /// Reads the last run's ticks of operator `index`: the board answers
    /// [`Event::LayerSample`].
    ReadLayer {
        /// Operator index in execution order.
        index: u16,
    },
}

/// What a [`Event::Received`] acknowledges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stream {
    /// The model being uploaded.
    Model,
    /// Graph input `index`.
    Input(u8),
}

/// How the board counts time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimerKind {
    /// The DWT cycle counter (Cortex-M3 and up, when present).
    Dwt,
    /// SysTick with overflow counting (every Cortex-M; QEMU).
    SysTick,
}

/// Capability bits of a firmware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities(pub u32);

impl Capabilities {
    /// Can time every operator.
    pub const PER_LAYER: u32 = 1;
    /// Has a model slot filled by the flasher.
    pub const FLASH_SLOT: u32 = 1 << 1;
    /// Sends defmt logs in [`Event::Log`] frames.
    pub const DEFMT_LOG: u32 = 1 << 2;

    /// Whether every bit of `bits` is set.
    pub fn has(self, bits: u32) -> bool {
        self.0 & bits == bits
    }
}

/// What a board says about itself in answer to [`Request::Hello`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identify {
    /// The firmware's [`crate::PROTOCOL_VERSION`].
    pub protocol_version: u16,
    /// Firmware version, `major.minor.patch` packed as `major << 16 | minor << 8 | patch`.
    pub firmware_version: u32,
    /// First 8 bytes of the firmware build's hash, to decide whether to reflash.
    pub build_hash: [u8; 8],
    /// Board name, as in its board.toml.
    pub board: heapless::String<32>,
    /// Core clock in Hz.
    pub core_clock_hz: u32,
    /// Timer used for samples.
    pub timer: TimerKind,
    /// Timer ticks per second.
    pub timer_hz: u32,
    /// Tensor arena size in bytes.
    pub arena_bytes: u32,
    /// Model slot size in bytes.
    pub model_slot_bytes: u32,
    /// Most per-inference samples a run can keep ([`Request::Run::samples`]).
    pub max_samples: u32,
    /// Capability bits.
    pub capabilities: Capabilities,
}

/// On-device summary of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The [`Request::Run::id`] of this run.
    pub id: u32,
    /// Timed inferences run.
    pub iterations: u32,
    /// Sum of their ticks.
    pub total_ticks: u64,
    /// Fastest inference.
    pub min_ticks: u64,
    /// Slowest inference.
    pub max_ticks: u64,
    /// Arena bytes the model uses.
    pub arena_used: u32,
    /// Deepest stack use seen, bytes (0 when unknown).
    pub stack_used: u32,
}

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorCode {
    /// The frame was corrupt (bad COBS or CRC) or not a request.
    BadFrame,
    /// The protocol versions differ.
    Version,
    /// The model does not fit in the slot.
    ModelTooLarge,
    /// A chunk's CRC or offset was wrong.
    BadChunk,
    /// The whole model's CRC was wrong.
    ModelCrc,
    /// The interpreter refused the model (detail says why).
    ModelRejected,
    /// The model's arena does not fit in the board's RAM.
    ArenaTooSmall,
    /// A request that needs a model came before one was loaded.
    NoModel,
    /// Bad input or output index or offset.
    BadIndex,
    /// Inference failed.
    Inference,
    /// More iterations with samples than the board can keep.
    TooManySamples,
    /// A read before any run, or of a run without samples or per-layer data.
    NoRun,
}

/// A message from the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// Answer to [`Request::Hello`].
    Identify(Identify),
    /// A [`Request::ModelBegin`], [`Request::ModelChunk`] or
    /// [`Request::InputChunk`] was taken: the stream now holds `end` bytes
    /// from its start. Naming the stream and its end lets the host tell this
    /// answer from a late answer to an earlier, resent request.
    Received {
        /// The model or an input.
        stream: Stream,
        /// Bytes received contiguously from offset 0.
        end: u32,
    },
    /// Whether the slot holds the queried or committed model, and the arena it needs.
    ModelStatus {
        /// The slot holds that model, prepared.
        present: bool,
        /// Arena bytes the model needs (0 when absent).
        arena_bytes: u32,
    },
    /// Ticks of consecutive timed inferences, starting at `first`,
    /// answering [`Request::ReadSamples`].
    Samples {
        /// Index of the first inference in this frame.
        first: u32,
        /// Ticks of each inference.
        ticks: Vec<u32, MAX_SAMPLES>,
    },
    /// Ticks of one operator in the profiled inference, answering
    /// [`Request::ReadLayer`].
    LayerSample {
        /// Operator index.
        index: u16,
        /// TFLite builtin operator code.
        opcode: u16,
        /// Ticks.
        ticks: u32,
    },
    /// The run finished.
    Done(RunSummary),
    /// A chunk of an output, answering [`Request::ReadOutput`].
    Output {
        /// Graph output index.
        index: u8,
        /// Byte offset of `data` in the output.
        offset: u32,
        /// Total output length in bytes.
        len: u32,
        /// The bytes.
        data: Vec<u8, CHUNK>,
    },
    /// defmt-encoded log bytes.
    Log(Vec<u8, MAX_LOG>),
    /// The request failed.
    Error {
        /// What failed.
        code: ErrorCode,
        /// A short detail.
        detail: heapless::String<64>,
    },
}

/// Host and board speak different protocol versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionMismatch {
    /// The host's version.
    pub host: u16,
    /// The board's version.
    pub board: u16,
}

impl core::fmt::Display for VersionMismatch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "protocol version mismatch: host speaks version {}, board firmware speaks version {}; reflash the firmware",
            self.host, self.board
        )
    }
}

/// Checks a board's version against the host's.
pub fn check_version(host: u16, board: u16) -> Result<(), VersionMismatch> {
    if host == board {
        Ok(())
    } else {
        Err(VersionMismatch { host, board })
    }
}
